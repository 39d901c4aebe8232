// Register-level helpers for TIS tests.
#pragma once

#include <vector>

#include "tests/unit/common/fake_backend.hpp"
#include "vtpm/tis/tis_device.hpp"

namespace mamori::test {

struct TisFixture {
  FakeBackend backend;
  RecordingIrq irq;
  vtpm::tis::TisDevice dev{backend, &irq};

  static uint64_t at(uint8_t loc, vtpm::tis::Reg r, uint16_t byte = 0) {
    return loc * vtpm::tis::kLocalityStride + r.offset + byte;
  }
  uint8_t access(uint8_t loc) { return static_cast<uint8_t>(dev.mmio_read(at(loc, vtpm::tis::kAccess), 1)); }
  uint32_t sts(uint8_t loc = 0) { return static_cast<uint32_t>(dev.mmio_read(at(loc, vtpm::tis::kSts), 4)); }
  uint8_t sts8(uint8_t loc = 0) { return static_cast<uint8_t>(dev.mmio_read(at(loc, vtpm::tis::kSts), 1)); }
  uint32_t burst(uint8_t loc = 0) { return (sts(loc) >> 8) & 0xFFFF; }
  void write_access(uint8_t loc, uint8_t v) { dev.mmio_write(at(loc, vtpm::tis::kAccess), 1, v); }
  void write_sts(uint8_t loc, uint32_t v) { dev.mmio_write(at(loc, vtpm::tis::kSts), 4, v); }
  void request(uint8_t loc) { write_access(loc, vtpm::tis::access::kRequestUse); }
  void ready(uint8_t loc = 0) { write_sts(loc, vtpm::tis::sts::kCommandReady); }
  void go(uint8_t loc = 0) { write_sts(loc, vtpm::tis::sts::kTpmGo); }
  void fifo_write(uint8_t loc, const std::vector<uint8_t>& bytes) {
    for (uint8_t b : bytes) dev.mmio_write(at(loc, vtpm::tis::kDataFifo), 1, b);
  }
  uint8_t fifo_read(uint8_t loc = 0) { return static_cast<uint8_t>(dev.mmio_read(at(loc, vtpm::tis::kDataFifo), 1)); }
  std::vector<uint8_t> fifo_read_n(size_t n, uint8_t loc = 0) {
    std::vector<uint8_t> v;
    for (size_t i = 0; i < n; ++i) v.push_back(fifo_read(loc));
    return v;
  }
  // Locality `loc` holds the TPM and has sent `cmd` (state Execution).
  void submit(const std::vector<uint8_t>& cmd, uint8_t loc = 0) {
    request(loc);
    ready(loc);
    fifo_write(loc, cmd);
    go(loc);
  }
};

// TPM2_GetRandom(8)
inline std::vector<uint8_t> get_random_cmd() { return {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 0x08}; }

}  // namespace mamori::test
