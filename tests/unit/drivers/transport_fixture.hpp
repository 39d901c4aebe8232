// Host-test plumbing for drivers/tpm: the transports' MMIO interface over a
// device model (with an optional filter that makes the device lie), and a
// simulated clock whose sleeps let the libtpms engine make progress.
#pragma once
#include <stdint.h>

#include <functional>
#include <utility>
#include <vector>

#include "drivers/tpm/transport.hpp"
#include "tests/unit/common/libtpms_backend.hpp"

namespace mamori::test {

class SimClock final : public drivers::tpm::TpmClock {
 public:
  uint64_t now_us() override { return now; }
  void sleep_us(uint32_t us) override {
    now += us;
    ++sleeps;
    if (on_sleep) on_sleep();
  }
  uint64_t now = 0;
  uint64_t sleeps = 0;
  std::function<void()> on_sleep;
};

// A device model seen through TpmMmio. `filter` may rewrite any value the
// model returned (offset, access size, value) to play a hostile device;
// `extra` maps a separate buffer page (CRB) at an offset from the base.
template <class Device>
class ModelMmio final : public drivers::tpm::TpmMmio {
 public:
  explicit ModelMmio(Device& d) : dev_(d) {}
  uint8_t read8(uint64_t off) override { return static_cast<uint8_t>(read(off, 1)); }
  uint32_t read32(uint64_t off) override { return static_cast<uint32_t>(read(off, 4)); }
  void write8(uint64_t off, uint8_t v) override { write(off, 1, v); }
  void write32(uint64_t off, uint32_t v) override { write(off, 4, v); }

  std::function<uint32_t(uint64_t off, uint8_t size, uint32_t v)> filter;
  uint8_t* extra = nullptr;
  uint64_t extra_off = 0, extra_size = 0;
  std::vector<std::pair<uint64_t, uint32_t>> writes;  // (offset, value) written, in order

 private:
  bool in_extra(uint64_t off, uint8_t size) const {
    return extra && off >= extra_off && off + size <= extra_off + extra_size;
  }
  uint32_t read(uint64_t off, uint8_t size) {
    uint32_t v = 0;
    if (in_extra(off, size)) {
      for (uint8_t i = 0; i < size; ++i) v |= uint32_t{extra[off - extra_off + i]} << (8 * i);
    } else {
      v = static_cast<uint32_t>(dev_.mmio_read(off, size));
    }
    return filter ? filter(off, size, v) : v;
  }
  void write(uint64_t off, uint8_t size, uint32_t v) {
    writes.emplace_back(off, v);
    if (in_extra(off, size)) {
      for (uint8_t i = 0; i < size; ++i) extra[off - extra_off + i] = static_cast<uint8_t>(v >> (8 * i));
      return;
    }
    dev_.mmio_write(off, size, v);
  }
  Device& dev_;
};

// Runs `cmd` through a transport into a vector (resized to the response).
inline drivers::tpm::TpmError transact(drivers::tpm::TpmTransport& t, const std::vector<uint8_t>& cmd,
                                       std::vector<uint8_t>& rsp, size_t cap = 4096) {
  rsp.assign(cap, 0);
  size_t n = 0;
  drivers::tpm::TpmError e = t.transmit(cmd.data(), cmd.size(), rsp.data(), rsp.size(), n);
  rsp.resize(n);
  return e;
}

}  // namespace mamori::test
