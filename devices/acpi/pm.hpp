// The ACPI fixed hardware a guest's FADT points at (ACPI 6.4 §4.8): the
// PM1a event block (PM1_STS, PM1_EN), the PM1a control block (SCI_EN,
// SLP_TYP, SLP_EN: soft-off) and the PM timer (3.579545 MHz, 32 bits with
// TMR_VAL_EXT). Port layout as QEMU's ICH9 LPC (PMBASE 0x600). Linux uses
// the PM timer as a clocksource and to check TSC calibration, and writes
// SLP_TYP=5|SLP_EN to power off (\_S5 in dsdt.asl).
//
// Pure: time comes in as TSC ticks with their rate; the VMM acts on what
// write() returns.
#pragma once
#include <stdint.h>

namespace mamori::devices::acpi {

inline constexpr uint16_t kPmBase = 0x600;
inline constexpr uint16_t kPm1aEvt = kPmBase;        // PM1_STS (2) + PM1_EN (2)
inline constexpr uint16_t kPm1aCnt = kPmBase + 4;    // PM1_CNT (2)
inline constexpr uint16_t kPmTmr = kPmBase + 8;      // PM_TMR (4)
inline constexpr uint8_t kPm1EvtLen = 4, kPm1CntLen = 2, kPmTmrLen = 4;
inline constexpr uint64_t kPmTimerHz = 3579545;      // §4.8.3.3
inline constexpr uint8_t kSlpTypS5 = 5;              // matches \_S5 in dsdt.asl

enum class PmAction : uint8_t { None, PowerOff, Sleep };

class PmDevice {
 public:
  // tsc_hz: the rate `now` counts at; now0: the guest's power-on time.
  void reset(uint64_t tsc_hz, uint64_t now0);
  static bool claims(uint16_t port) { return port >= kPmBase && port < kPmBase + 12; }
  // `size` 1, 2 or 4; bytes outside a register read as 0 / ignore writes.
  uint32_t read(uint16_t port, unsigned size, uint64_t now) const;
  PmAction write(uint16_t port, unsigned size, uint32_t value);
  uint32_t timer(uint64_t now) const;
  uint16_t pm1_status() const { return sts_; }
  uint16_t pm1_enable() const { return en_; }
  uint16_t pm1_control() const { return cnt_; }

 private:
  uint32_t reg_bytes(uint16_t reg_port, unsigned reg_len, uint32_t reg, uint16_t port, unsigned size) const;
  uint64_t hz_ = 1, t0_ = 0;
  uint16_t sts_ = 0, en_ = 0;
  uint16_t cnt_ = 1;  // SCI_EN: no SMI_CMD, the platform is in ACPI mode from power-on (§4.8.2.1)
};

}  // namespace mamori::devices::acpi
