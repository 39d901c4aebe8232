// Replays of Linux's use of the 8254 with a fake TSC clock:
// arch/x86/kernel/tsc.c pit_calibrate_tsc() (channel 2, mode 0, polling
// port 0x61 bit 5) as pit_hpet_ptimer_calibrate_cpu() runs it, and
// quick_pit_calibrate() (reading the MSB of channel 2 as it counts down);
// drivers/clocksource/i8253.c clockevents (periodic mode 2, one-shot mode
// 4, shutdown) and the PIT clocksource read (latch command).
#include <catch.hpp>

#include <limits.h>

#include "tests/unit/pit/pit_fixture.hpp"

using mamori::test::PitFixture;

namespace {

constexpr uint64_t kTscHz = 2'000'000'000;  // the guest TSC the clock counts
constexpr unsigned long kPitTickRate = 1193182;

// A guest CPU whose port accesses each take `cost` TSC cycles (VM exit + model).
struct Guest {
  PitFixture& f;
  uint64_t cost;
  uint8_t inb(uint16_t port) {
    f.clock.t += cost;
    return static_cast<uint8_t>(f.pit.read(port, 1));
  }
  void outb(uint8_t v, uint16_t port) {
    f.clock.t += cost;
    f.pit.write(port, 1, v);
  }
  uint64_t get_cycles() { return f.clock.t; }
};

// tsc.c pit_calibrate_tsc(latch, ms, loopmin): TSC kHz or ULONG_MAX.
unsigned long pit_calibrate_tsc(Guest& g, uint32_t latch, unsigned long ms, int loopmin) {
  g.outb(static_cast<uint8_t>((g.inb(0x61) & ~0x02) | 0x01), 0x61);
  g.outb(0xb0, 0x43);
  g.outb(latch & 0xff, 0x42);
  g.outb(static_cast<uint8_t>(latch >> 8), 0x42);
  uint64_t tsc, t1, t2;
  tsc = t1 = t2 = g.get_cycles();
  int pitcnt = 0;
  unsigned long tscmax = 0, tscmin = ULONG_MAX;
  while ((g.inb(0x61) & 0x20) == 0) {
    t2 = g.get_cycles();
    const uint64_t delta = t2 - tsc;
    tsc = t2;
    if (delta < tscmin) tscmin = static_cast<unsigned int>(delta);
    if (delta > tscmax) tscmax = static_cast<unsigned int>(delta);
    pitcnt++;
    if (pitcnt > 10'000'000) return ULONG_MAX - 1;  // the model never raised OUT2
  }
  if (pitcnt < loopmin || tscmax > 10 * tscmin) return ULONG_MAX;
  return (t2 - t1) / ms;
}

bool pit_verify_msb(Guest& g, uint8_t val) {
  g.inb(0x42);  // ignore LSB
  return g.inb(0x42) == val;
}

bool pit_expect_msb(Guest& g, uint8_t val, uint64_t* tscp, unsigned long* deltap) {
  int count;
  uint64_t tsc = 0, prev_tsc = 0;
  for (count = 0; count < 50000; count++) {
    if (!pit_verify_msb(g, val)) break;
    prev_tsc = tsc;
    tsc = g.get_cycles();
  }
  *deltap = g.get_cycles() - prev_tsc;
  *tscp = tsc;
  return count > 5;
}

// tsc.c quick_pit_calibrate(): TSC kHz or 0.
unsigned long quick_pit_calibrate(Guest& g) {
  constexpr unsigned long kMaxQuickPitIterations = 50 * kPitTickRate / 1000 / 256;
  g.outb(static_cast<uint8_t>((g.inb(0x61) & ~0x02) | 0x01), 0x61);
  g.outb(0xb0, 0x43);
  g.outb(0xff, 0x42);
  g.outb(0xff, 0x42);
  pit_verify_msb(g, 0);
  uint64_t tsc, delta;
  unsigned long d1, d2, i;
  if (pit_expect_msb(g, 0xff, &tsc, &d1)) {
    for (i = 1; i <= kMaxQuickPitIterations; i++) {
      if (!pit_expect_msb(g, static_cast<uint8_t>(0xff - i), &delta, &d2)) break;
      delta -= tsc;
      if (i == 1 && d1 + d2 >= (delta * kMaxQuickPitIterations) >> 11) return 0;
      if (d1 + d2 >= delta >> 11) continue;
      if (!pit_verify_msb(g, static_cast<uint8_t>(0xfe - i))) break;
      delta *= kPitTickRate;
      return static_cast<unsigned long>(delta / (i * 256 * 1000));
    }
  }
  return 0;
}

}  // namespace

TEST_CASE("pit linux: pit_calibrate_tsc measures the TSC rate", "[pit][linux]") {
  PitFixture f(kTscHz);
  f.clock.t = 5'000'000'000ull;
  Guest g{f, 800};  // 400 ns per port access
  // pit_hpet_ptimer_calibrate_cpu: CAL_LATCH (CAL_MS 10), then CAL2_LATCH (CAL2_MS 50).
  const unsigned long khz10 = pit_calibrate_tsc(g, kPitTickRate / (1000 / 10), 10, 1000);
  const unsigned long khz50 = pit_calibrate_tsc(g, kPitTickRate / (1000 / 50), 50, 5000);
  INFO("10 ms: " << khz10 << " kHz, 50 ms: " << khz50 << " kHz");
  // Within 0.1% of 2 GHz (the loop's granularity is one port read).
  CHECK(khz10 > 1'998'000);
  CHECK(khz10 < 2'002'000);
  CHECK(khz50 > 1'998'000);
  CHECK(khz50 < 2'002'000);
}

TEST_CASE("pit linux: quick_pit_calibrate sees the MSB count down", "[pit][linux]") {
  PitFixture f(kTscHz);
  f.clock.t = 77'777;
  Guest g{f, 600};  // 300 ns per port access
  const unsigned long khz = quick_pit_calibrate(g);
  INFO(khz << " kHz");
  CHECK(khz > 1'999'000);  // Linux accepts it only within 500 ppm
  CHECK(khz < 2'001'000);
}

TEST_CASE("pit linux: i8253 clockevent periodic, one-shot and shutdown", "[pit][linux]") {
  PitFixture f(1'000'000'000);
  Guest g{f, 1000};
  constexpr uint16_t kLatch = (kPitTickRate + 250 / 2) / 250;  // PIT_LATCH, HZ=250
  // pit_set_periodic
  g.outb(0x34, 0x43);
  g.outb(kLatch & 0xff, 0x40);
  g.outb(kLatch >> 8, 0x40);
  const int base = f.irq.rising;
  f.run_until(f.clock.t + 1'000'000'000);
  CHECK(f.irq.rising - base >= 249);
  CHECK(f.irq.rising - base <= 250);
  // pit_shutdown: mode 0 control word and a zero count (i8253_clear_counter_on_shutdown)
  g.outb(0x30, 0x43);
  g.outb(0, 0x40);
  g.outb(0, 0x40);
  // pit_set_oneshot + pit_next_event(delta = 1193, ~1 ms)
  g.outb(0x38, 0x43);
  const int before = f.irq.rising;
  const uint64_t written = f.clock.t + 2000;  // time of the MSB write
  g.outb(1193 & 0xff, 0x40);
  g.outb(1193 >> 8, 0x40);
  CHECK(f.clock.t == written);
  const uint64_t e = f.pit.next_event();
  // 1193 + 1 CLKs (load CLK, then N) after the write, in ns.
  CHECK(e > written + 1193 * 1'000'000'000ull / kPitTickRate);
  CHECK(e <= written + 1196 * 1'000'000'000ull / kPitTickRate);
  f.run_until(f.clock.t + 100'000'000);
  CHECK(f.irq.rising - before == 1);
}

TEST_CASE("pit linux: the PIT clocksource read (latch) counts down monotonically", "[pit][linux]") {
  PitFixture f(1'000'000'000);
  Guest g{f, 1000};
  g.outb(0x34, 0x43);
  g.outb(0x9B, 0x40);
  g.outb(0x2E, 0x40);  // LATCH for 100 Hz: 11931
  int prev = 0x10000;
  for (int i = 0; i < 8; ++i) {
    g.outb(0x00, 0x43);  // latch the count ASAP
    int count = g.inb(0x40);
    count |= g.inb(0x40) << 8;
    CHECK(count < prev);
    CHECK(count <= 11931);
    prev = count;
  }
}
