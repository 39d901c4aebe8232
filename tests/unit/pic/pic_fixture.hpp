// Helpers for 8259A pair tests: an INT output recorder and the PC BIOS /
// Linux programming sequence.
#pragma once

#include <vector>

#include "devices/pic/pic.hpp"

namespace mamori::test {

struct RecordingLine final : devices::IrqLine {
  bool level = false;
  std::vector<bool> history;
  void set_level(bool l) override { level = l, history.push_back(l); }
};

struct PicFixture {
  RecordingLine intr;
  devices::pic::PicPair pic{&intr};

  void out(uint16_t port, uint8_t v) { pic.write(port, 1, v); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(pic.read(port, 1)); }
  // ICW1-4 as Linux's init_8259A(auto_eoi) writes them.
  void init(uint8_t master_base = 0x30, uint8_t slave_base = 0x38, bool aeoi = false) {
    out(0x21, 0xFF);
    out(0x20, 0x11);
    out(0x21, master_base);
    out(0x21, 1u << 2);
    out(0x21, aeoi ? 0x03 : 0x01);
    out(0xA0, 0x11);
    out(0xA1, slave_base);
    out(0xA1, 2);
    out(0xA1, 0x01);
    out(0x21, 0x00);
    out(0xA1, 0x00);
  }
  void pulse(uint8_t irq) {
    pic.set_irq(irq, true);
    pic.set_irq(irq, false);
  }
  uint8_t isr(bool slave = false) {
    const uint16_t p = slave ? 0xA0 : 0x20;
    out(p, 0x0B);
    const uint8_t v = in(p);
    out(p, 0x0A);
    return v;
  }
  uint8_t irr(bool slave = false) {
    const uint16_t p = slave ? 0xA0 : 0x20;
    out(p, 0x0A);
    return in(p);
  }
  void eoi(bool slave = false) { out(slave ? 0xA0 : 0x20, 0x20); }
};

}  // namespace mamori::test
