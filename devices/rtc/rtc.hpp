// The PC's MC146818A-compatible real-time clock and CMOS RAM (Motorola
// MC146818A datasheet; ACPI 6.5 §5.2.9 FADT CENTURY; IBM PC/AT Technical
// Reference "CMOS RAM"). Index port 0x70 (bits 6-0 = register, bit 7 =
// NMI disable on PCs), data port 0x71, interrupt on ISA IRQ 8.
//
//   0x00-0x09  seconds, alarm seconds, minutes, alarm minutes, hours,
//              alarm hours, day of week (Sunday = 1), day, month, year
//   0x0A-0x0D  registers A (UIP, DV2-0, RS3-0), B (SET PIE AIE UIE SQWE DM
//              24/12 DSE), C (IRQF PF AF UF, read-to-clear), D (VRT)
//   0x32       century (the FADT's CENTURY index), part of the clock here
//   0x0E-0x7F  otherwise NVRAM (the VMM fills the memory-size bytes)
//
// Time comes from the Clock: the wall clock given at construction
// (seconds since the epoch at clock.now()) plus elapsed time. Second
// updates happen every hz() ticks from the divider's origin; the update
// cycle itself is instantaneous (UIP is 1 during the 244 us before each
// update, the datasheet's tBUC, and the registers change at the update).
// PF/UF/AF are computed from elapsed time when the guest looks; the VMM
// calls update() at next_event() to raise IRQ8 for enabled interrupts.
// Missed periodic interrupts coalesce (PF is one flag). DSE (daylight
// saving) is stored but not applied; the day of week is derived from the
// date.
#pragma once

#include <stdint.h>

#include "devices/legacy_clock.hpp"
#include "devices/irq.hpp"

namespace mamori::devices::rtc {

inline constexpr uint16_t kIndexPort = 0x70, kDataPort = 0x71;
inline constexpr uint8_t kIrq = 8;
inline constexpr uint8_t kCmosSize = 128;

namespace reg {
inline constexpr uint8_t kSeconds = 0x00, kSecondsAlarm = 0x01, kMinutes = 0x02, kMinutesAlarm = 0x03,
                         kHours = 0x04, kHoursAlarm = 0x05, kDayOfWeek = 0x06, kDayOfMonth = 0x07,
                         kMonth = 0x08, kYear = 0x09, kA = 0x0A, kB = 0x0B, kC = 0x0C, kD = 0x0D,
                         kCentury = 0x32;
}
namespace a {
inline constexpr uint8_t kUip = 0x80, kDvMask = 0x70, kDv32k = 0x20, kRsMask = 0x0F;
}
namespace b {
inline constexpr uint8_t kSet = 0x80, kPie = 0x40, kAie = 0x20, kUie = 0x10, kSqwe = 0x08, kDm = 0x04,
                         k24h = 0x02, kDse = 0x01;
}
namespace c {
inline constexpr uint8_t kIrqf = 0x80, kPf = 0x40, kAf = 0x20, kUf = 0x10;
}
namespace d {
inline constexpr uint8_t kVrt = 0x80;
}

struct CivilTime {
  int64_t year;
  uint8_t month, day, hour, minute, second;
  uint8_t weekday;  // 1 = Sunday (MC146818 convention)
};
CivilTime civil_from_epoch(uint64_t seconds);
uint64_t epoch_from_civil(int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                          unsigned second);

class Rtc {
 public:
  // `epoch_seconds`: wall-clock time (UTC seconds since 1970) at clock.now().
  Rtc(const Clock& clock, IrqLine* irq8, uint64_t epoch_seconds);

  static bool handles(uint16_t port) { return port == kIndexPort || port == kDataPort; }
  uint32_t read(uint16_t port, uint8_t size);
  void write(uint16_t port, uint8_t size, uint32_t value);

  // Clock value at which IRQ8 is raised next, or kNever.
  uint64_t next_event() const;
  void update();
  // The MC146818 RESET pin (platform reset): clears PIE, AIE, UIE, SQWE
  // and the flags. Time and NVRAM are battery-backed and survive.
  void reset();

  // CMOS bytes for the VMM (NVRAM: 0x0E-0x7F except the century).
  uint8_t cmos(uint8_t index) const { return cmos_[index & 0x7F]; }
  void set_cmos(uint8_t index, uint8_t value);
  // The memory-size bytes PC firmware and guests read (SeaBIOS/QEMU
  // layout): 0x15/0x16 base KiB, 0x17/0x18 and 0x30/0x31 KiB above 1 MiB
  // (max 0xFFFF), 0x34/0x35 64 KiB units above 16 MiB below 4 GiB,
  // 0x5B-0x5D 64 KiB units above 4 GiB.
  void set_memory_size(uint64_t below_4g_bytes, uint64_t above_4g_bytes);

  bool nmi_masked() const { return nmi_masked_; }
  uint64_t epoch_seconds() const;  // the RTC's current time
  bool irq_level() const { return irq_level_; }
  uint8_t flags() const { return flags_; }  // register C without IRQF, no side effects
  uint8_t reg_b() const { return reg_b_; }

 private:
  uint8_t read8(uint16_t port);
  void write8(uint16_t port, uint8_t value);
  uint8_t read_register(uint8_t index);
  void write_register(uint8_t index, uint8_t value);
  bool running() const;
  bool divider_running() const { return (reg_a_ & a::kDvMask) == a::kDv32k; }
  uint64_t seconds_at(uint64_t t) const;
  void set_seconds(uint64_t s, uint64_t t);
  void advance(uint64_t t);
  void encode_time(uint64_t s, uint8_t* regs) const;  // regs[0x00..0x09], regs[10] = century
  uint64_t decode_time(const uint8_t* regs) const;
  uint32_t periodic_cycles() const;  // 32.768 kHz cycles per periodic interrupt, 0 = off
  uint64_t next_periodic_after(uint64_t t) const;
  uint64_t next_second_after(uint64_t t) const;
  uint64_t next_alarm_second_after(uint64_t s) const;
  void update_irq();

  const Clock& clock_;
  IrqLine* irq_;
  uint8_t cmos_[kCmosSize] = {};
  uint8_t index_ = 0;
  bool nmi_masked_ = false;
  uint8_t reg_a_ = 0x26;  // DV = 010 (32.768 kHz), RS = 0110 (1024 Hz)
  uint8_t reg_b_ = b::k24h;
  uint8_t flags_ = 0;     // PF AF UF
  bool irq_level_ = false;
  // Time: second updates at origin_ + k*hz; base_sec_ is the time in [origin_, origin_+hz).
  uint64_t origin_ = 0;
  uint64_t base_sec_ = 0;
  uint64_t frozen_sec_ = 0;  // while SET or the divider is stopped
  uint8_t image_[11] = {};   // time registers written while SET = 1 (+ century)
  uint64_t last_eval_ = 0;
};

}  // namespace mamori::devices::rtc
