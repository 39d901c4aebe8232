// Local APIC register offsets and bits (SDM Vol. 3A ch. 11 "Advanced
// Programmable Interrupt Controller (APIC)", Table 11-1 "Local APIC Register
// Address Map", Table 11-6 "Local APIC Register Address Map Supported by
// x2APIC", Figure 11-8 "Local Vector Table").
//
// Offsets are those of the xAPIC MMIO page, which is also the layout of the
// VMX virtual-APIC page (SDM Vol. 3C §29.1 "Virtual APIC State"). The
// x2APIC MSR of a register is 0x800 + (offset >> 4) (SDM §11.12.1.2).
#pragma once

#include <stdint.h>

namespace mamori::devices::lapic {

inline constexpr uint64_t kDefaultBase = 0xFEE00000;
inline constexpr uint32_t kPageSize = 0x1000;

// Register offsets in the xAPIC page / virtual-APIC page.
namespace reg {
inline constexpr uint32_t kId = 0x020;
inline constexpr uint32_t kVersion = 0x030;
inline constexpr uint32_t kTpr = 0x080;
inline constexpr uint32_t kApr = 0x090;
inline constexpr uint32_t kPpr = 0x0A0;
inline constexpr uint32_t kEoi = 0x0B0;
inline constexpr uint32_t kRrd = 0x0C0;
inline constexpr uint32_t kLdr = 0x0D0;
inline constexpr uint32_t kDfr = 0x0E0;
inline constexpr uint32_t kSvr = 0x0F0;
inline constexpr uint32_t kIsr = 0x100;  // 8 x 32 bits, 16-byte stride
inline constexpr uint32_t kTmr = 0x180;
inline constexpr uint32_t kIrr = 0x200;
inline constexpr uint32_t kEsr = 0x280;
inline constexpr uint32_t kLvtCmci = 0x2F0;
inline constexpr uint32_t kIcrLow = 0x300;
inline constexpr uint32_t kIcrHigh = 0x310;
inline constexpr uint32_t kLvtTimer = 0x320;
inline constexpr uint32_t kLvtThermal = 0x330;
inline constexpr uint32_t kLvtPerf = 0x340;
inline constexpr uint32_t kLvtLint0 = 0x350;
inline constexpr uint32_t kLvtLint1 = 0x360;
inline constexpr uint32_t kLvtError = 0x370;
inline constexpr uint32_t kTimerInitial = 0x380;
inline constexpr uint32_t kTimerCurrent = 0x390;
inline constexpr uint32_t kTimerDivide = 0x3E0;
inline constexpr uint32_t kSelfIpi = 0x3F0;  // x2APIC only
}  // namespace reg

// MSRs.
namespace msr {
inline constexpr uint32_t kApicBase = 0x1B;       // IA32_APIC_BASE
inline constexpr uint32_t kTscDeadline = 0x6E0;   // IA32_TSC_DEADLINE
inline constexpr uint32_t kX2apicFirst = 0x800;   // x2APIC range (SDM §11.12.1.2)
inline constexpr uint32_t kX2apicLast = 0x8FF;
inline constexpr uint32_t kX2apicIcr = 0x830;
inline constexpr uint32_t kX2apicSelfIpi = 0x83F;
constexpr uint32_t offset_of(uint32_t x2apic_msr) { return (x2apic_msr - kX2apicFirst) << 4; }
}  // namespace msr

// IA32_APIC_BASE (SDM §11.4.4 Figure 11-5, §11.12.1 Figure 11-26).
namespace base {
inline constexpr uint64_t kBsp = 1u << 8;
inline constexpr uint64_t kExtd = 1u << 10;  // x2APIC mode
inline constexpr uint64_t kEnable = 1u << 11;
inline constexpr uint64_t kAddressShift = 12;
}  // namespace base

// Version register (SDM §11.4.8 Figure 11-7).
namespace version {
inline constexpr uint32_t kIntegrated = 0x14;  // integrated APIC, as QEMU and KVM report
inline constexpr uint32_t kMaxLvtShift = 16;
inline constexpr uint32_t kDirectedEoi = 1u << 24;  // EOI-broadcast suppression supported
}  // namespace version

// Spurious-interrupt vector register (SDM §11.9 Figure 11-23).
namespace svr {
inline constexpr uint32_t kVector = 0xFF;
inline constexpr uint32_t kEnable = 1u << 8;
inline constexpr uint32_t kFocusDisable = 1u << 9;
inline constexpr uint32_t kSuppressEoiBroadcast = 1u << 12;
inline constexpr uint32_t kReset = 0xFF;
}  // namespace svr

// Local vector table entries (SDM §11.5.1 Figure 11-8).
namespace lvt {
inline constexpr uint32_t kVector = 0xFF;
inline constexpr uint32_t kDeliveryModeShift = 8;
inline constexpr uint32_t kDeliveryMode = 7u << 8;
inline constexpr uint32_t kDeliveryStatus = 1u << 12;  // RO
inline constexpr uint32_t kPolarityLow = 1u << 13;      // LINT0/1
inline constexpr uint32_t kRemoteIrr = 1u << 14;        // LINT0/1, RO
inline constexpr uint32_t kLevel = 1u << 15;            // LINT0/1
inline constexpr uint32_t kMasked = 1u << 16;
inline constexpr uint32_t kTimerModeShift = 17;
inline constexpr uint32_t kTimerMode = 3u << 17;
inline constexpr uint32_t kTimerOneShot = 0u << 17;
inline constexpr uint32_t kTimerPeriodic = 1u << 17;
inline constexpr uint32_t kTimerTscDeadline = 2u << 17;
inline constexpr uint32_t kReset = kMasked;
}  // namespace lvt

// The seven LVT entries in the order of their registers' index in the
// version register's max-LVT count (CMCI is entry 6, SDM §11.5.1).
enum class Lvt : uint8_t { Timer, Thermal, Perf, Lint0, Lint1, Error, Cmci };
inline constexpr unsigned kLvtCount = 7;
inline constexpr uint32_t kMaxLvtEntry = kLvtCount - 1;

constexpr uint32_t lvt_offset(Lvt l) {
  return l == Lvt::Cmci ? reg::kLvtCmci : reg::kLvtTimer + 0x10 * static_cast<uint32_t>(l);
}

// Error status register bits (SDM §11.5.3 Figure 11-9).
namespace esr {
inline constexpr uint32_t kSendChecksum = 1u << 0;
inline constexpr uint32_t kReceiveChecksum = 1u << 1;
inline constexpr uint32_t kSendAccept = 1u << 2;
inline constexpr uint32_t kReceiveAccept = 1u << 3;
inline constexpr uint32_t kRedirectableIpi = 1u << 4;
inline constexpr uint32_t kSendIllegalVector = 1u << 5;
inline constexpr uint32_t kReceiveIllegalVector = 1u << 6;
inline constexpr uint32_t kIllegalRegister = 1u << 7;
}  // namespace esr

// Interrupt command register (SDM §11.6.1 Figure 11-12; x2APIC §11.12.9
// Figure 11-28).
namespace icr {
inline constexpr uint32_t kVector = 0xFF;
inline constexpr uint32_t kDeliveryModeShift = 8;
inline constexpr uint32_t kDestLogical = 1u << 11;
inline constexpr uint32_t kDeliveryStatus = 1u << 12;  // xAPIC only, RO
inline constexpr uint32_t kAssert = 1u << 14;
inline constexpr uint32_t kLevel = 1u << 15;
inline constexpr uint32_t kShorthandShift = 18;
// Writable bits of the low half: 19:18, 15:14, 11:0.
inline constexpr uint32_t kLowWritable = 0x000CCFFF;
// x2APIC: bits 12 (no delivery status), 13, 17:16 and 31:20 are reserved.
inline constexpr uint64_t kX2apicReserved = 0xFFF33000;
inline constexpr uint32_t kXapicDestShift = 24;
}  // namespace icr

// Divide configuration register (SDM §11.5.4 Figure 11-10): bits 0, 1, 3.
namespace divide {
inline constexpr uint32_t kWritable = 0xB;
// Divisor encoded by bits 3,1:0: 000 -> 2, 001 -> 4, ..., 110 -> 128, 111 -> 1.
constexpr uint32_t divisor(uint32_t dcr) {
  uint32_t v = (dcr & 3) | ((dcr & 8) >> 1);
  return v == 7 ? 1 : (2u << v);
}
}  // namespace divide

// Vectors 0-15 are illegal for fixed interrupts (SDM §11.5.2): the LAPIC
// never sets IRR bits 0-15.
inline constexpr unsigned kFirstLegalVector = 16;

}  // namespace mamori::devices::lapic
