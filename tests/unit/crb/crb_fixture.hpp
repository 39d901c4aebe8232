#pragma once

#include <vector>

#include "tests/unit/common/fake_backend.hpp"
#include "vtpm/crb/crb_device.hpp"

namespace mamori::test {

struct CrbFixture {
  FakeBackend backend;
  RecordingIrq irq;
  vtpm::crb::CrbDevice dev;
  explicit CrbFixture(const vtpm::crb::CrbConfig& config = {}) : dev(backend, &irq, config) {}

  static uint64_t at(uint8_t loc, vtpm::crb::Reg r, uint16_t byte = 0) {
    return loc * vtpm::crb::kLocalityStride + r.offset + byte;
  }
  uint32_t r32(uint8_t loc, vtpm::crb::Reg r) { return static_cast<uint32_t>(dev.mmio_read(at(loc, r), 4)); }
  void w32(uint8_t loc, vtpm::crb::Reg r, uint32_t v) { dev.mmio_write(at(loc, r), 4, v); }
  void request(uint8_t loc = 0) { w32(loc, vtpm::crb::kLocCtrl, vtpm::crb::loc_ctrl::kRequestAccess); }
  void relinquish(uint8_t loc = 0) { w32(loc, vtpm::crb::kLocCtrl, vtpm::crb::loc_ctrl::kRelinquish); }
  void cmd_ready(uint8_t loc = 0) { w32(loc, vtpm::crb::kCtrlReq, vtpm::crb::ctrl_req::kCmdReady); }
  void go_idle(uint8_t loc = 0) { w32(loc, vtpm::crb::kCtrlReq, vtpm::crb::ctrl_req::kGoIdle); }
  void start(uint8_t loc = 0) { w32(loc, vtpm::crb::kCtrlStart, vtpm::crb::kStartInvoke); }
  void write_buffer(const std::vector<uint8_t>& bytes, uint8_t loc = 0) {
    for (size_t i = 0; i < bytes.size(); ++i)
      dev.mmio_write(loc * vtpm::crb::kLocalityStride + vtpm::crb::kDataBuffer + i, 1, bytes[i]);
  }
  std::vector<uint8_t> read_buffer(size_t n, uint8_t loc = 0) {
    std::vector<uint8_t> v;
    for (size_t i = 0; i < n; ++i)
      v.push_back(static_cast<uint8_t>(dev.mmio_read(loc * vtpm::crb::kLocalityStride + vtpm::crb::kDataBuffer + i, 1)));
    return v;
  }
  void submit(const std::vector<uint8_t>& cmd, uint8_t loc = 0) {
    request(loc);
    cmd_ready(loc);
    write_buffer(cmd, loc);
    start(loc);
  }
};

inline std::vector<uint8_t> crb_get_random_cmd() { return {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 0x08}; }

}  // namespace mamori::test
