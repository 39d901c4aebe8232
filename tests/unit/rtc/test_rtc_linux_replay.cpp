// Replays of Linux's CMOS clock code (drivers/rtc/rtc-mc146818-lib.c)
// against the model: mc146818_avoid_UIP() + mc146818_get_time_callback()
// as mc146818_get_time() runs them (x86 read_persistent_clock at boot),
// mc146818_set_time() (divider reset, SET, then release), and
// rtc-cmos's alarm + interrupt handler (cmos_set_alarm, cmos_interrupt).
#include <catch.hpp>

#include "tests/unit/rtc/rtc_fixture.hpp"

using namespace mamori::devices::rtc;
using mamori::test::kBootEpoch;
using mamori::test::RtcFixture;

namespace {

constexpr uint8_t RTC_SECONDS = 0, RTC_SECONDS_ALARM = 1, RTC_MINUTES = 2, RTC_MINUTES_ALARM = 3, RTC_HOURS = 4,
                  RTC_HOURS_ALARM = 5, RTC_DAY_OF_MONTH = 7, RTC_MONTH = 8, RTC_YEAR = 9, RTC_FREQ_SELECT = 10,
                  RTC_CONTROL = 11, RTC_INTR_FLAGS = 12;
constexpr uint8_t RTC_UIP = 0x80, RTC_SET = 0x80, RTC_DM_BINARY = 0x04, RTC_DIV_RESET2 = 0x70, RTC_AIE = 0x20,
                  RTC_IRQF = 0x80, RTC_AF = 0x20, RTC_IRQMASK = 0x70;
constexpr uint8_t kFadtCentury = 0x32;  // the FADT CENTURY index the VMM publishes
constexpr uint64_t kAccessNs = 1000;    // one port access

unsigned bcd2bin(uint8_t v) { return (v & 0x0F) + (v >> 4) * 10; }
uint8_t bin2bcd(unsigned v) { return static_cast<uint8_t>(((v / 10) << 4) | (v % 10)); }

struct LinuxCmos {
  RtcFixture& f;
  uint8_t read(uint8_t addr) {
    f.clock.t += kAccessNs;
    f.rtc.write(0x70, 1, addr);
    f.clock.t += kAccessNs;
    return static_cast<uint8_t>(f.rtc.read(0x71, 1));
  }
  void write(uint8_t v, uint8_t addr) {
    f.clock.t += kAccessNs;
    f.rtc.write(0x70, 1, addr);
    f.clock.t += kAccessNs;
    f.rtc.write(0x71, 1, v);
  }
  void udelay(uint64_t us) { f.clock.t += us * 1000; }

  struct Time {
    unsigned sec, min, hour, mday, mon, year;
  };

  // mc146818_get_time(): false on -ETIMEDOUT. `retries` counts UIP waits.
  bool get_time(Time& tm, int& retries) {
    uint8_t seconds = 0, min = 0, hour = 0, mday = 0, mon = 0, year = 0, century = 0, ctrl = 0;
    bool ok = false;
    for (int i = 0; i * 100 < 10 * 1000; i++) {  // UIP_RECHECK_LOOPS_MS(i) < 10
      seconds = read(RTC_SECONDS);
      if (read(RTC_FREQ_SELECT) & RTC_UIP) {
        ++retries;
        udelay(100);
        continue;
      }
      if (seconds != read(RTC_SECONDS)) continue;
      min = read(RTC_MINUTES);
      hour = read(RTC_HOURS);
      mday = read(RTC_DAY_OF_MONTH);
      mon = read(RTC_MONTH);
      year = read(RTC_YEAR);
      century = read(kFadtCentury);
      ctrl = read(RTC_CONTROL);
      if (read(RTC_FREQ_SELECT) & RTC_UIP) {
        ++retries;
        udelay(100);
        continue;
      }
      if (seconds != read(RTC_SECONDS)) continue;
      ok = true;
      break;
    }
    if (!ok) return false;
    unsigned s = seconds, mi = min, h = hour, d = mday, mo = mon, y = year, c = century;
    if (!(ctrl & RTC_DM_BINARY)) {
      s = bcd2bin(seconds), mi = bcd2bin(min), h = bcd2bin(hour), d = bcd2bin(mday), mo = bcd2bin(mon);
      y = bcd2bin(year), c = bcd2bin(century);
    }
    if (c)
      y += (c - 19) * 100;
    else if (y <= 69)
      y += 100;
    tm = {s, mi, h, d, mo - 1, y};  // tm_year since 1900, tm_mon 0-11
    return true;
  }

  // mc146818_set_time() for a BCD RTC.
  void set_time(unsigned year, unsigned mon, unsigned day, unsigned hrs, unsigned min, unsigned sec) {
    const uint8_t save_control = read(RTC_CONTROL);
    write(save_control | RTC_SET, RTC_CONTROL);
    const uint8_t save_freq_select = read(RTC_FREQ_SELECT);
    write(save_freq_select | RTC_DIV_RESET2, RTC_FREQ_SELECT);
    write(bin2bcd(year % 100), RTC_YEAR);
    write(bin2bcd(mon), RTC_MONTH);
    write(bin2bcd(day), RTC_DAY_OF_MONTH);
    write(bin2bcd(hrs), RTC_HOURS);
    write(bin2bcd(min), RTC_MINUTES);
    write(bin2bcd(sec), RTC_SECONDS);
    write(bin2bcd(year / 100), kFadtCentury);
    write(save_control, RTC_CONTROL);
    write(save_freq_select, RTC_FREQ_SELECT);
  }
};

}  // namespace

TEST_CASE("rtc linux: mc146818_get_time reads the boot time", "[rtc][linux]") {
  RtcFixture f;
  LinuxCmos cmos{f};
  LinuxCmos::Time tm{};
  int retries = 0;
  REQUIRE(cmos.get_time(tm, retries));
  CHECK(retries == 0);
  CHECK(tm.year + 1900 == 2026);
  CHECK(tm.mon == 11);
  CHECK(tm.mday == 2);
  CHECK(tm.hour == 5);
  CHECK(tm.min == 51);
  CHECK(tm.sec == 35);
}

TEST_CASE("rtc linux: mc146818_get_time waits out UIP and gets the new second", "[rtc][linux]") {
  RtcFixture f(kBootEpoch);
  f.clock.t = 1'000'000'000 - 200'000;  // inside the UIP window before 05:51:36
  LinuxCmos cmos{f};
  LinuxCmos::Time tm{};
  int retries = 0;
  REQUIRE(cmos.get_time(tm, retries));
  CHECK(retries >= 1);
  CHECK(tm.sec == 36);
  CHECK(tm.min == 51);
}

TEST_CASE("rtc linux: mc146818_set_time, then the first update 500 ms after release", "[rtc][linux]") {
  RtcFixture f;
  f.clock.t = 123'456'789;
  LinuxCmos cmos{f};
  cmos.set_time(2027, 1, 15, 8, 30, 0);
  const uint64_t released = f.clock.t;
  CHECK(f.rtc.epoch_seconds() == epoch_from_civil(2027, 1, 15, 8, 30, 0));
  f.clock.t = released + 499'000'000;
  CHECK(f.rtc.epoch_seconds() == epoch_from_civil(2027, 1, 15, 8, 30, 0));
  f.clock.t = released + 500'000'000;
  CHECK(f.rtc.epoch_seconds() == epoch_from_civil(2027, 1, 15, 8, 30, 1));
  LinuxCmos::Time tm{};
  int retries = 0;
  f.clock.t = released + 2'700'000'000;
  REQUIRE(cmos.get_time(tm, retries));
  CHECK(tm.year + 1900 == 2027);
  CHECK(tm.mon == 0);
  CHECK(tm.mday == 15);
  CHECK(tm.hour == 8);
  CHECK(tm.min == 30);
  CHECK(tm.sec == 3);
}

TEST_CASE("rtc linux: rtc-cmos alarm and interrupt handler", "[rtc][linux]") {
  RtcFixture f;  // 05:51:35
  LinuxCmos cmos{f};
  // cmos_set_alarm(05:52:00): disable AIE, write the alarm bytes, enable.
  uint8_t rtc_control = cmos.read(RTC_CONTROL);
  cmos.write(rtc_control & static_cast<uint8_t>(~RTC_AIE), RTC_CONTROL);
  cmos.read(RTC_INTR_FLAGS);  // cmos_checkintr: clear stale flags
  cmos.write(bin2bcd(5), RTC_HOURS_ALARM);
  cmos.write(bin2bcd(52), RTC_MINUTES_ALARM);
  cmos.write(bin2bcd(0), RTC_SECONDS_ALARM);
  rtc_control = cmos.read(RTC_CONTROL);
  cmos.read(RTC_INTR_FLAGS);
  cmos.write(rtc_control | RTC_AIE, RTC_CONTROL);
  int alarms = 0;
  f.run_until(60'000'000'000ull, [&] {
    // cmos_interrupt(): read and clear the flags, filter by the enables.
    uint8_t irqstat = cmos.read(RTC_INTR_FLAGS);
    const uint8_t ctl = cmos.read(RTC_CONTROL);
    irqstat &= (ctl & RTC_IRQMASK) | RTC_IRQF;
    if (irqstat & RTC_AF) {
      ++alarms;
      CHECK(f.rtc.epoch_seconds() == epoch_from_civil(2026, 12, 2, 5, 52, 0));
    }
  });
  CHECK(alarms == 1);
  CHECK_FALSE(f.irq.level);
}
