// APIC timer: one-shot, periodic, TSC-deadline, divide configuration and
// Linux's calibration reads (SDM Vol. 3A §11.5.4). Test clock: 1 GHz TSC,
// 25 MHz timer base, so one count at divide-by-1 is 40 TSC ticks.
#include <catch.hpp>

#include "lapic_fixture.hpp"

using namespace lapic_test;

namespace {
constexpr uint32_t kLocalTimerVector = 0xEC;  // Linux's LOCAL_TIMER_VECTOR
}

TEST_CASE("divide configuration encodings (SDM 11.5.4 Figure 11-10)", "[lapic][timer]") {
  CHECK(divide::divisor(0x0) == 2);
  CHECK(divide::divisor(0x1) == 4);
  CHECK(divide::divisor(0x2) == 8);
  CHECK(divide::divisor(0x3) == 16);
  CHECK(divide::divisor(0x8) == 32);
  CHECK(divide::divisor(0x9) == 64);
  CHECK(divide::divisor(0xA) == 128);
  CHECK(divide::divisor(0xB) == 1);
}

TEST_CASE("one-shot: counts down, fires once, stays 0", "[lapic][timer]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTimerDivide, 0xB);
  f.wr(reg::kLvtTimer, kLocalTimerVector);
  CHECK(f.apic.next_deadline() == kNever);
  f.wr(reg::kTimerInitial, 1000);
  const uint64_t start = f.clock.t;
  CHECK(f.apic.next_deadline() == start + 40000);
  CHECK(f.rd(reg::kTimerCurrent) == 1000);
  f.clock.t = start + 20000;
  CHECK(f.rd(reg::kTimerCurrent) == 500);
  f.apic.tick(start + 39999);  // early tick: nothing
  CHECK_FALSE(f.apic.irr(kLocalTimerVector));
  f.clock.t = start + 40000;
  f.apic.tick(f.clock.t);
  CHECK(f.apic.irr(kLocalTimerVector));
  CHECK(f.rd(reg::kTimerCurrent) == 0);
  CHECK(f.apic.next_deadline() == kNever);
  REQUIRE(f.take() == kLocalTimerVector);
  f.clock.t += 1000000;
  f.apic.tick(f.clock.t);
  CHECK_FALSE(f.apic.irr(kLocalTimerVector));
  CHECK(f.rd(reg::kTimerInitial) == 1000);  // the initial count is kept
  // Writing the initial count re-arms; 0 stops.
  f.wr(reg::kTimerInitial, 10);
  CHECK(f.apic.next_deadline() == f.clock.t + 400);
  f.wr(reg::kTimerInitial, 0);
  CHECK(f.apic.next_deadline() == kNever);
  CHECK(f.rd(reg::kTimerCurrent) == 0);
}

TEST_CASE("periodic: reloads, coalesces missed periods", "[lapic][timer]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTimerDivide, 0x0);  // divide by 2: 80 ticks per count
  f.wr(reg::kLvtTimer, lvt::kTimerPeriodic | 0x30);
  f.wr(reg::kTimerInitial, 100);  // 8000 ticks per period
  const uint64_t start = f.clock.t;
  CHECK(f.apic.next_deadline() == start + 8000);
  f.clock.t = start + 8000;
  f.apic.tick(f.clock.t);
  CHECK(f.apic.irr(0x30));
  CHECK(f.apic.next_deadline() == start + 16000);
  CHECK(f.rd(reg::kTimerCurrent) == 100);
  f.clock.t = start + 12000;
  CHECK(f.rd(reg::kTimerCurrent) == 50);
  REQUIRE(f.take() == 0x30);
  f.wr(reg::kEoi, 0);
  // The VMM was late by three periods: one interrupt, next deadline aligned.
  f.clock.t = start + 16000 + 3 * 8000 + 800;
  CHECK(f.rd(reg::kTimerCurrent) == 90);
  f.apic.tick(f.clock.t);
  CHECK(f.apic.irr(0x30));
  CHECK(f.apic.next_deadline() == start + 5 * 8000 + 8000);
  CHECK(f.apic.stats().timer_fired == 2);
  CHECK(f.rd(reg::kTimerCurrent) == 90);
}

TEST_CASE("a masked timer counts but does not interrupt", "[lapic][timer]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTimerDivide, 0xB);
  f.wr(reg::kLvtTimer, lvt::kMasked | lvt::kTimerPeriodic | 0x30);
  f.wr(reg::kTimerInitial, 10);
  f.clock.t += 400;
  f.apic.tick(f.clock.t);
  CHECK_FALSE(f.apic.irr(0x30));
  CHECK(f.apic.stats().timer_fired == 1);
  CHECK(f.apic.next_deadline() == f.clock.t + 400);
}

TEST_CASE("periodic timers are clamped to the minimum period", "[lapic][timer]") {
  FakeClock clock;
  RecordingRouter router;
  Config c = test_config();
  c.min_period_ticks = 200000;
  Lapic apic(c, clock, router, nullptr);
  apic.mmio_write(reg::kSvr, 4, 0x1FF);
  apic.mmio_write(reg::kTimerDivide, 4, 0xB);
  apic.mmio_write(reg::kLvtTimer, 4, lvt::kTimerPeriodic | 0x30);
  apic.mmio_write(reg::kTimerInitial, 4, 1);
  CHECK(apic.next_deadline() == clock.t + 200000);
  clock.t += 200000;
  apic.tick(clock.t);
  CHECK(apic.next_deadline() == clock.t + 200000);
  apic.mmio_write(reg::kLvtTimer, 4, lvt::kTimerOneShot | 0x30);  // mode change disarms
  apic.mmio_write(reg::kTimerInitial, 4, 1);
  CHECK(apic.next_deadline() == clock.t + 40);  // one-shot is not clamped
}

TEST_CASE("changing the divide keeps the current count going at the new rate", "[lapic][timer]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTimerDivide, 0xB);
  f.wr(reg::kLvtTimer, 0x30);
  f.wr(reg::kTimerInitial, 1000);
  f.clock.t += 10000;  // 250 counts
  CHECK(f.rd(reg::kTimerCurrent) == 750);
  f.wr(reg::kTimerDivide, 0x0);  // now 80 ticks per count
  CHECK(f.rd(reg::kTimerCurrent) == 750);
  CHECK(f.apic.next_deadline() == f.clock.t + 750 * 80);
  f.clock.t += 80 * 50;
  CHECK(f.rd(reg::kTimerCurrent) == 700);
}

TEST_CASE("Linux calibrate_APIC_clock: periodic, divide 16, 0xFFFFFFFF, masked", "[lapic][timer][linux]") {
  Fixture f;
  f.enable();
  // __setup_APIC_LVTT(0xffffffff, 0, 0): TDCR = APIC_TDR_DIV_16, LVTT =
  // periodic | masked | LOCAL_TIMER_VECTOR, TMICT = 0xffffffff / 16.
  f.wr(reg::kLvtTimer, lvt::kMasked | lvt::kTimerPeriodic | kLocalTimerVector);
  f.wr(reg::kTimerDivide, (f.rd(reg::kTimerDivide) & ~0xFu) | 0x3);
  f.wr(reg::kTimerInitial, 0xFFFFFFFFu / 16);
  const uint32_t t1 = f.rd(reg::kTimerCurrent);
  f.clock.t += 100'000'000;  // LAPIC_CAL_LOOPS = HZ/10 jiffies = 100 ms
  const uint32_t t2 = f.rd(reg::kTimerCurrent);
  const uint64_t delta = t1 - t2;
  // lapic_timer_period = delta * APIC_DIVISOR / LAPIC_CAL_LOOPS (per jiffy,
  // HZ = 250): 25 MHz / 250 = 100000.
  const uint64_t period = delta * 16 / 25;
  CHECK(period == 100000);
  CHECK_FALSE(f.apic.irr(kLocalTimerVector));
}

TEST_CASE("TSC-deadline mode (SDM 11.5.4.1)", "[lapic][timer][linux]") {
  Fixture f;
  f.enable();
  // Outside TSC-deadline mode the MSR reads 0 and ignores writes.
  f.wrmsr(msr::kTscDeadline, 5000);
  CHECK(f.rdmsr(msr::kTscDeadline) == 0);
  CHECK(f.apic.next_deadline() == kNever);
  // Linux lapic_next_deadline(): LVTT = TSC_DEADLINE | vector, then
  // wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + delta).
  f.wr(reg::kLvtTimer, lvt::kTimerTscDeadline | kLocalTimerVector);
  f.wr(reg::kTimerInitial, 1234);  // ignored in this mode
  CHECK(f.rd(reg::kTimerInitial) == 0);
  CHECK(f.rd(reg::kTimerCurrent) == 0);
  const uint64_t dl = f.clock.t + 777777;
  f.wrmsr(msr::kTscDeadline, dl);
  CHECK(f.rdmsr(msr::kTscDeadline) == dl);
  CHECK(f.apic.next_deadline() == dl);
  f.apic.tick(dl - 1);
  CHECK_FALSE(f.apic.irr(kLocalTimerVector));
  f.apic.tick(dl);
  CHECK(f.apic.irr(kLocalTimerVector));
  CHECK(f.rdmsr(msr::kTscDeadline) == 0);  // disarmed after firing
  CHECK(f.apic.next_deadline() == kNever);
  // A deadline in the past fires at the next tick; 0 disarms.
  f.wrmsr(msr::kTscDeadline, 1);
  CHECK(f.apic.next_deadline() == 1);
  f.wrmsr(msr::kTscDeadline, 0);
  CHECK(f.apic.next_deadline() == kNever);
  // Leaving the mode disarms.
  f.wrmsr(msr::kTscDeadline, dl + 10);
  f.wr(reg::kLvtTimer, lvt::kTimerOneShot | kLocalTimerVector);
  CHECK(f.apic.next_deadline() == kNever);
  f.wr(reg::kLvtTimer, lvt::kTimerTscDeadline | kLocalTimerVector);
  CHECK(f.rdmsr(msr::kTscDeadline) == 0);
}

TEST_CASE("timer arithmetic does not overflow at the extremes", "[lapic][timer]") {
  FakeClock clock;
  clock.t = ~uint64_t{0} - 10;
  RecordingRouter router;
  Config c = test_config();
  c.tsc_hz = 5'000'000'000;
  c.timer_hz = 1;
  Lapic apic(c, clock, router, nullptr);
  apic.mmio_write(reg::kSvr, 4, 0x1FF);
  apic.mmio_write(reg::kTimerDivide, 4, 0xA);  // 128
  apic.mmio_write(reg::kLvtTimer, 4, lvt::kTimerPeriodic | 0x30);
  apic.mmio_write(reg::kTimerInitial, 4, 0xFFFFFFFF);
  CHECK(apic.next_deadline() == kNever - 0);  // saturates
  CHECK(apic.mmio_read(reg::kTimerCurrent, 4) == 0xFFFFFFFF);
  apic.tick(~uint64_t{0});
}
