// Helpers for MC146818 tests: nanosecond clock, IRQ8 recorder, CMOS access.
#pragma once

#include <stdint.h>

#include "devices/legacy_clock.hpp"
#include "devices/rtc/rtc.hpp"

namespace mamori::test {

struct RtcClock final : devices::Clock {
  uint64_t t = 0;
  uint64_t now() const override { return t; }
  uint64_t hz() const override { return 1'000'000'000; }
};

struct RtcLine final : devices::IrqLine {
  bool level = false;
  int rising = 0;
  void set_level(bool l) override {
    if (l && !level) ++rising;
    level = l;
  }
};

// 2026-12-02 05:51:35 UTC, a Wednesday.
inline constexpr uint64_t kBootEpoch = 1796190695;

struct RtcFixture {
  explicit RtcFixture(uint64_t epoch = kBootEpoch, uint64_t start = 0) : clock(start_at(start)), rtc(clock, &irq, epoch) {}
  static RtcClock start_at(uint64_t t) {
    RtcClock c;
    c.t = t;
    return c;
  }
  RtcClock clock;
  RtcLine irq;
  devices::rtc::Rtc rtc;

  uint8_t cmos_read(uint8_t idx) {
    rtc.write(0x70, 1, idx);
    return static_cast<uint8_t>(rtc.read(0x71, 1));
  }
  void cmos_write(uint8_t idx, uint8_t v) {
    rtc.write(0x70, 1, idx);
    rtc.write(0x71, 1, v);
  }
  // The VMM's timer loop: update() at every next_event() until `until`;
  // `on_irq` runs when IRQ8 rises (the guest's handler).
  template <class F>
  void run_until(uint64_t until, F&& on_irq) {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      const uint64_t e = rtc.next_event();
      if (e > until) break;
      if (e > clock.t) clock.t = e;
      const int before = irq.rising;
      rtc.update();
      if (irq.rising != before) on_irq();
    }
    clock.t = until;
    rtc.update();
  }
};

}  // namespace mamori::test
