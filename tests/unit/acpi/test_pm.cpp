// The ACPI PM fixed hardware: timer rate and wrap, PM1 status/enable/control
// semantics, soft-off through SLP_TYP/SLP_EN as Linux's acpi_enter_sleep_state
// writes it.
#include <catch.hpp>

#include "devices/acpi/pm.hpp"

using namespace mamori::devices::acpi;

TEST_CASE("the PM timer counts at 3.579545 MHz from power-on and wraps at 32 bits") {
  PmDevice pm;
  const uint64_t hz = 2'000'000'000;
  pm.reset(hz, 1000);
  CHECK(pm.read(kPmTmr, 4, 1000) == 0);
  CHECK(pm.read(kPmTmr, 4, 1000 + hz) == kPmTimerHz);
  CHECK(pm.read(kPmTmr, 4, 1000 + hz / 2) == kPmTimerHz / 2);
  // 2^32 counts take 1199.86 s.
  uint64_t wrap_s = (1ull << 32) / kPmTimerHz + 1;
  CHECK(pm.read(kPmTmr, 4, 1000 + wrap_s * hz) == static_cast<uint32_t>(wrap_s * kPmTimerHz));
  // Byte access to the timer's upper half.
  uint32_t full = pm.read(kPmTmr, 4, 1000 + 3 * hz);
  CHECK(pm.read(kPmTmr + 2, 2, 1000 + 3 * hz) == (full >> 16));
  // A huge TSC rate and a long uptime do not overflow.
  pm.reset(5'000'000'000'000ull, 0);
  CHECK(pm.timer(5'000'000'000'000ull * 10) == 10 * kPmTimerHz);
}

TEST_CASE("PM1 control: SCI_EN reads set, SLP_EN with SLP_TYP 5 powers off") {
  PmDevice pm;
  pm.reset(1'000'000, 0);
  CHECK((pm.read(kPm1aCnt, 2, 0) & 1) == 1);  // ACPI mode from power-on: Linux skips the SMI_CMD handshake
  CHECK(pm.write(kPm1aCnt, 2, 5u << 10) == PmAction::None);  // SLP_TYP first, as ACPICA does
  CHECK(pm.write(kPm1aCnt, 2, (5u << 10) | (1u << 13)) == PmAction::PowerOff);
  CHECK((pm.read(kPm1aCnt, 2, 0) & (1u << 13)) == 0);  // SLP_EN is write-only
  CHECK(pm.write(kPm1aCnt, 2, (3u << 10) | (1u << 13)) == PmAction::Sleep);  // S3: not offered, reported
  // Byte writes: the high byte alone carries SLP_EN.
  CHECK(pm.write(kPm1aCnt, 1, 0) == PmAction::None);
  CHECK(pm.write(kPm1aCnt + 1, 1, (5u << 2) | (1u << 5)) == PmAction::PowerOff);
}

TEST_CASE("PM1 status is write-one-to-clear, enable holds only implemented bits") {
  PmDevice pm;
  pm.reset(1'000'000, 0);
  pm.write(kPm1aEvt + 2, 2, 0xFFFF);
  CHECK(pm.pm1_enable() == ((1u << 0) | (1u << 8)));
  CHECK(pm.read(kPm1aEvt, 4, 0) == (static_cast<uint32_t>(pm.pm1_enable()) << 16));
  pm.write(kPm1aEvt, 2, 0xFFFF);  // clearing nothing set is harmless
  CHECK(pm.pm1_status() == 0);
  CHECK(pm.read(kPm1aEvt, 3, 0) == 0xFFFFFFFFu);  // no 3-byte accesses on I/O
  CHECK(PmDevice::claims(kPmTmr + 3));
  CHECK_FALSE(PmDevice::claims(kPmBase + 12));
}
