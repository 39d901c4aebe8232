// Helpers for 8254 tests: a settable clock and an IRQ0 edge counter.
#pragma once

#include <stdint.h>

#include "devices/legacy_clock.hpp"
#include "devices/pit/pit.hpp"

namespace mamori::test {

struct FakeClock final : devices::Clock {
  uint64_t t = 0;
  uint64_t rate;
  explicit FakeClock(uint64_t hz) : rate(hz) {}
  uint64_t now() const override { return t; }
  uint64_t hz() const override { return rate; }
};

struct EdgeCounter final : devices::IrqLine {
  bool level = false;
  int rising = 0, changes = 0;
  void set_level(bool l) override {
    if (l && !level) ++rising;
    ++changes;
    level = l;
  }
};

struct PitFixture {
  explicit PitFixture(uint64_t hz = devices::pit::kPitHz) : clock(hz) {}
  FakeClock clock;
  EdgeCounter irq;
  devices::pit::Pit pit{clock, &irq};

  void out(uint16_t port, uint8_t v) { pit.write(port, 1, v); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(pit.read(port, 1)); }
  // Program channel `ch` with mode, LSB then MSB, binary.
  void program(uint8_t ch, uint8_t mode, uint16_t count) {
    out(0x43, static_cast<uint8_t>((ch << 6) | 0x30 | (mode << 1)));
    out(static_cast<uint16_t>(0x40 + ch), static_cast<uint8_t>(count));
    out(static_cast<uint16_t>(0x40 + ch), static_cast<uint8_t>(count >> 8));
  }
  uint16_t latch_read(uint8_t ch) {
    out(0x43, static_cast<uint8_t>(ch << 6));
    const uint8_t lo = in(static_cast<uint16_t>(0x40 + ch));
    return static_cast<uint16_t>(lo | (in(static_cast<uint16_t>(0x40 + ch)) << 8));
  }
  bool out2() { return in(0x61) & 0x20; }
  // Run the VMM's timer loop until `until`: update() at every next_event().
  void run_until(uint64_t until) {
    for (;;) {
      const uint64_t e = pit.next_event();
      if (e > until) break;
      clock.t = e;
      pit.update();
    }
    clock.t = until;
    pit.update();
  }
};

}  // namespace mamori::test
