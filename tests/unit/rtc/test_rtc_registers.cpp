// Register-level tests of the MC146818 model (datasheet "Registers",
// "Update Cycle", "Interrupts"; PC CMOS layout).
#include <catch.hpp>

#include "tests/unit/rtc/rtc_fixture.hpp"

using namespace mamori::devices::rtc;
using mamori::devices::kNever;
using mamori::test::kBootEpoch;
using mamori::test::RtcFixture;

constexpr uint64_t kSec = 1'000'000'000;

TEST_CASE("rtc: civil time conversions", "[rtc]") {
  CivilTime c = civil_from_epoch(0);
  CHECK(c.year == 1970);
  CHECK(c.month == 1);
  CHECK(c.day == 1);
  CHECK(c.weekday == 5);  // Thursday
  c = civil_from_epoch(1709208000);
  CHECK(c.year == 2024);
  CHECK(c.month == 2);
  CHECK(c.day == 29);
  CHECK(c.hour == 12);
  CHECK(epoch_from_civil(2100, 3, 1, 0, 0, 0) == 4107542400ull);
  CHECK(epoch_from_civil(2026, 12, 2, 5, 51, 35) == kBootEpoch);
  for (uint64_t s : {0ull, 951782399ull, 951782400ull, 4107542399ull, 253402300799ull}) {
    const CivilTime t = civil_from_epoch(s);
    CHECK(epoch_from_civil(t.year, t.month, t.day, t.hour, t.minute, t.second) == s);
  }
}

TEST_CASE("rtc: time registers in BCD, 24-hour (the power-on format)", "[rtc]") {
  RtcFixture f;
  CHECK(f.cmos_read(reg::kB) == 0x02);
  CHECK(f.cmos_read(reg::kA) == 0x26);
  CHECK(f.cmos_read(reg::kD) == 0x80);
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  CHECK(f.cmos_read(reg::kMinutes) == 0x51);
  CHECK(f.cmos_read(reg::kHours) == 0x05);
  CHECK(f.cmos_read(reg::kDayOfWeek) == 0x04);  // Wednesday
  CHECK(f.cmos_read(reg::kDayOfMonth) == 0x02);
  CHECK(f.cmos_read(reg::kMonth) == 0x12);
  CHECK(f.cmos_read(reg::kYear) == 0x26);
  CHECK(f.cmos_read(reg::kCentury) == 0x20);
  f.clock.t = kSec - 1;
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  f.clock.t = kSec;
  CHECK(f.cmos_read(reg::kSeconds) == 0x36);
  f.clock.t = 25 * kSec;
  CHECK(f.cmos_read(reg::kSeconds) == 0x00);
  CHECK(f.cmos_read(reg::kMinutes) == 0x52);
}

TEST_CASE("rtc: the date rolls over at midnight on New Year's Eve 1999", "[rtc]") {
  RtcFixture f(946684798);  // 1999-12-31 23:59:58, a Friday
  CHECK(f.cmos_read(reg::kCentury) == 0x19);
  CHECK(f.cmos_read(reg::kDayOfWeek) == 0x06);
  f.clock.t = 2 * kSec;
  CHECK(f.cmos_read(reg::kYear) == 0x00);
  CHECK(f.cmos_read(reg::kCentury) == 0x20);
  CHECK(f.cmos_read(reg::kMonth) == 0x01);
  CHECK(f.cmos_read(reg::kDayOfMonth) == 0x01);
  CHECK(f.cmos_read(reg::kHours) == 0x00);
  CHECK(f.cmos_read(reg::kDayOfWeek) == 0x07);
}

TEST_CASE("rtc: binary mode and 12-hour mode", "[rtc]") {
  RtcFixture f(epoch_from_civil(2026, 12, 2, 13, 5, 9));
  f.cmos_write(reg::kB, b::kDm | b::k24h);
  CHECK(f.cmos_read(reg::kHours) == 13);
  CHECK(f.cmos_read(reg::kMonth) == 12);
  CHECK(f.cmos_read(reg::kYear) == 26);
  f.cmos_write(reg::kB, 0x00);  // BCD, 12-hour
  CHECK(f.cmos_read(reg::kHours) == (0x80 | 0x01));  // 1 PM
  f.cmos_write(reg::kB, b::kDm);  // binary, 12-hour
  CHECK(f.cmos_read(reg::kHours) == (0x80 | 1));
  RtcFixture g(epoch_from_civil(2026, 12, 2, 0, 30, 0));
  g.cmos_write(reg::kB, 0x00);
  CHECK(g.cmos_read(reg::kHours) == 0x12);  // 12 AM
  g.cmos_write(reg::kHours, 0x92);          // 12 PM written
  g.cmos_write(reg::kB, b::k24h);
  CHECK(g.cmos_read(reg::kHours) == 0x12);  // noon
}

TEST_CASE("rtc: SET freezes the clock, clears UIE, and takes the written time", "[rtc]") {
  RtcFixture f;
  f.cmos_write(reg::kB, b::k24h | b::kUie);
  f.clock.t = kSec / 4;
  f.cmos_write(reg::kB, b::kSet | b::k24h | b::kUie);
  CHECK(f.cmos_read(reg::kB) == (b::kSet | b::k24h));  // UIE cleared
  f.cmos_write(reg::kSeconds, 0x00);
  f.cmos_write(reg::kMinutes, 0x00);
  f.cmos_write(reg::kHours, 0x07);
  f.clock.t = 5 * kSec;  // frozen: no update while SET
  CHECK(f.cmos_read(reg::kSeconds) == 0x00);
  CHECK((f.cmos_read(reg::kC) & c::kUf) == 0);  // (PF runs on: RS = 1024 Hz)
  f.cmos_write(reg::kB, b::k24h);
  CHECK(f.rtc.epoch_seconds() == epoch_from_civil(2026, 12, 2, 7, 0, 0));
  // The divider kept its phase: the next update is at 6 s on the clock.
  f.clock.t = 6 * kSec - 1;
  CHECK(f.cmos_read(reg::kSeconds) == 0x00);
  f.clock.t = 6 * kSec;
  CHECK(f.cmos_read(reg::kSeconds) == 0x01);
}

TEST_CASE("rtc: a time register written while running keeps the phase", "[rtc]") {
  RtcFixture f;
  f.clock.t = kSec / 2;
  f.cmos_write(reg::kMinutes, 0x10);
  CHECK(f.cmos_read(reg::kMinutes) == 0x10);
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  f.clock.t = kSec;
  CHECK(f.cmos_read(reg::kSeconds) == 0x36);
  // Garbage is clamped, never undefined.
  f.cmos_write(reg::kMonth, 0x99);
  CHECK(f.cmos_read(reg::kMonth) == 0x12);
}

TEST_CASE("rtc: divider reset stops the clock; restart updates 500 ms later", "[rtc]") {
  RtcFixture f;
  f.clock.t = kSec / 3;
  f.cmos_write(reg::kA, 0x70);  // DV = 111: reset
  f.cmos_read(reg::kC);         // clear PF from before the reset
  f.clock.t = 10 * kSec;
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  CHECK((f.cmos_read(reg::kC) & c::kPf) == 0);  // no periodic flag either
  f.cmos_write(reg::kA, 0x26);
  f.clock.t = 10 * kSec + kSec / 2 - 1;
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  f.clock.t = 10 * kSec + kSec / 2;
  CHECK(f.cmos_read(reg::kSeconds) == 0x36);
}

TEST_CASE("rtc: UIP is set during the 244 us before each update", "[rtc]") {
  RtcFixture f;
  f.clock.t = kSec - 245'000;
  CHECK((f.cmos_read(reg::kA) & a::kUip) == 0);
  f.clock.t = kSec - 244'000;
  CHECK(f.cmos_read(reg::kA) & a::kUip);
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  f.clock.t = kSec;
  CHECK((f.cmos_read(reg::kA) & a::kUip) == 0);
  CHECK(f.cmos_read(reg::kSeconds) == 0x36);
  f.cmos_write(reg::kB, b::kSet | b::k24h);
  f.clock.t = 2 * kSec - 1000;
  CHECK((f.cmos_read(reg::kA) & a::kUip) == 0);  // no updates while SET
}

TEST_CASE("rtc: update-ended interrupt each second; C is read-to-clear", "[rtc]") {
  RtcFixture f;
  f.cmos_write(reg::kB, b::k24h | b::kUie);
  CHECK(f.rtc.next_event() == kSec);
  CHECK_FALSE(f.irq.level);
  f.clock.t = kSec;
  f.rtc.update();
  CHECK(f.irq.level);
  CHECK(f.rtc.next_event() == kNever);  // IRQF stays until C is read
  CHECK(f.cmos_read(reg::kC) == (c::kIrqf | c::kUf | c::kPf));  // PF is set without PIE
  CHECK_FALSE(f.irq.level);
  CHECK(f.cmos_read(reg::kC) == 0x00);
  CHECK(f.rtc.next_event() == 2 * kSec);
  int irqs = 0;
  f.run_until(60 * kSec, [&] {
    ++irqs;
    f.cmos_read(reg::kC);
  });
  CHECK(irqs == 59);
  // A guest that polls instead of waiting: its read raises the line too.
  f.cmos_read(reg::kC);
  f.clock.t += 1'500'000'000;
  f.cmos_read(reg::kSeconds);
  CHECK(f.irq.level);
}

TEST_CASE("rtc: flags are set without their enables; enabling raises IRQF at once", "[rtc]") {
  RtcFixture f;
  f.clock.t = 3 * kSec;
  CHECK(f.rtc.flags() == 0);
  f.cmos_write(reg::kB, b::k24h);  // any access evaluates elapsed time
  CHECK(f.rtc.flags() == (c::kUf | c::kPf));
  CHECK_FALSE(f.irq.level);
  f.cmos_write(reg::kB, b::k24h | b::kPie);
  CHECK(f.irq.level);
  CHECK(f.cmos_read(reg::kC) == (c::kIrqf | c::kPf | c::kUf));
}

TEST_CASE("rtc: periodic interrupt rates", "[rtc]") {
  struct Rate {
    uint8_t rs;
    int per_second;
  };
  for (const Rate r : {Rate{1, 256}, Rate{2, 128}, Rate{3, 8192}, Rate{6, 1024}, Rate{15, 2}}) {
    RtcFixture f;
    f.cmos_write(reg::kA, static_cast<uint8_t>(0x20 | r.rs));
    f.cmos_write(reg::kB, b::k24h | b::kPie);
    int irqs = 0;
    f.run_until(kSec, [&] {
      ++irqs;
      CHECK((f.cmos_read(reg::kC) & (c::kIrqf | c::kPf)) == (c::kIrqf | c::kPf));
    });
    INFO("RS=" << int(r.rs));
    CHECK(irqs == r.per_second);
  }
  RtcFixture off;
  off.cmos_write(reg::kA, 0x20);
  off.cmos_write(reg::kB, b::k24h | b::kPie);
  CHECK(off.rtc.next_event() == kNever);
}

TEST_CASE("rtc: alarm interrupt, don't-care bytes, impossible alarms", "[rtc]") {
  RtcFixture f;  // 05:51:35
  f.cmos_write(reg::kSecondsAlarm, 0x40);
  f.cmos_write(reg::kMinutesAlarm, 0x51);
  f.cmos_write(reg::kHoursAlarm, 0x05);
  f.cmos_write(reg::kB, b::k24h | b::kAie);
  CHECK(f.rtc.next_event() == 5 * kSec);
  f.clock.t = 5 * kSec - 1;
  f.rtc.update();
  CHECK_FALSE(f.irq.level);
  f.clock.t = 5 * kSec;
  f.rtc.update();
  CHECK(f.irq.level);
  CHECK(f.cmos_read(reg::kC) == (c::kIrqf | c::kAf | c::kUf | c::kPf));
  // Next match is a day later.
  CHECK(f.rtc.next_event() == 5 * kSec + 86400 * kSec);
  // Don't care in all three: every second.
  f.cmos_write(reg::kSecondsAlarm, 0xC0);
  f.cmos_write(reg::kMinutesAlarm, 0xFF);
  f.cmos_write(reg::kHoursAlarm, 0xC5);
  CHECK(f.rtc.next_event() == 6 * kSec);
  // Minutes don't care, seconds 00: at the next full minute (05:52:00).
  f.cmos_write(reg::kSecondsAlarm, 0x00);
  CHECK(f.rtc.next_event() == 25 * kSec);
  // An alarm time that cannot occur never fires.
  f.cmos_write(reg::kSecondsAlarm, 0x61);
  CHECK(f.rtc.next_event() == kNever);
  f.clock.t = 200'000 * kSec;
  CHECK((f.cmos_read(reg::kC) & c::kAf) == 0);
}

TEST_CASE("rtc: a late update still sees an alarm it passed", "[rtc]") {
  RtcFixture f;
  f.cmos_write(reg::kSecondsAlarm, 0x45);
  f.cmos_write(reg::kMinutesAlarm, 0xC0);
  f.cmos_write(reg::kHoursAlarm, 0xC0);
  f.clock.t = 30 * kSec;  // 05:52:05: :45 of 05:51 passed at 10 s
  CHECK(f.cmos_read(reg::kC) & c::kAf);
}

TEST_CASE("rtc: CMOS NVRAM, memory size bytes, index port, NMI mask", "[rtc]") {
  RtcFixture f;
  f.cmos_write(0x40, 0xAB);
  CHECK(f.cmos_read(0x40) == 0xAB);
  CHECK(f.rtc.cmos(0x40) == 0xAB);
  f.cmos_write(reg::kC, 0xFF);  // read-only
  f.cmos_write(reg::kD, 0x00);
  CHECK(f.cmos_read(reg::kD) == 0x80);
  f.rtc.set_cmos(reg::kSeconds, 0x99);  // not NVRAM: ignored
  CHECK(f.cmos_read(reg::kSeconds) == 0x35);
  f.rtc.set_memory_size(3ull << 30, 5ull << 30);  // 3 GiB below 4 GiB, 5 GiB above
  CHECK((f.cmos_read(0x15) | f.cmos_read(0x16) << 8) == 640);
  CHECK((f.cmos_read(0x17) | f.cmos_read(0x18) << 8) == 0xFFFF);
  CHECK((f.cmos_read(0x30) | f.cmos_read(0x31) << 8) == 0xFFFF);
  CHECK((f.cmos_read(0x34) | f.cmos_read(0x35) << 8) == ((3u << 30) - (16u << 20)) / 65536);
  CHECK((f.cmos_read(0x5B) | f.cmos_read(0x5C) << 8 | f.cmos_read(0x5D) << 16) == (5ull << 30) / 65536);
  f.rtc.set_memory_size(32u << 20, 0);
  CHECK((f.cmos_read(0x17) | f.cmos_read(0x18) << 8) == 31 * 1024);
  CHECK((f.cmos_read(0x34) | f.cmos_read(0x35) << 8) == 256);
  CHECK(f.cmos_read(0x5B) == 0);
  // Index port: bit 7 masks NMI, reads float.
  f.rtc.write(0x70, 1, 0x80 | reg::kSeconds);
  CHECK(f.rtc.nmi_masked());
  CHECK(f.rtc.read(0x71, 1) == 0x35);
  CHECK(f.rtc.read(0x70, 1) == 0xFF);
  f.rtc.write(0x70, 1, reg::kSeconds);
  CHECK_FALSE(f.rtc.nmi_masked());
  // A word write: index then data.
  f.rtc.write(0x70, 2, 0x5A41);
  CHECK(f.rtc.cmos(0x41) == 0x5A);
}

TEST_CASE("rtc: the RESET pin clears enables and flags; time and NVRAM survive", "[rtc]") {
  RtcFixture f;
  f.cmos_write(0x50, 0x77);
  f.cmos_write(reg::kB, b::k24h | b::kUie | b::kPie);
  f.clock.t = 2 * kSec;
  f.rtc.update();
  CHECK(f.irq.level);
  f.rtc.reset();
  CHECK_FALSE(f.irq.level);
  CHECK(f.cmos_read(reg::kB) == b::k24h);
  CHECK(f.cmos_read(0x50) == 0x77);
  CHECK(f.cmos_read(reg::kSeconds) == 0x37);
}
