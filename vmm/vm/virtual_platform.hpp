// Each guest's virtual platform: the pure device models of devices/ (local
// APIC, IOAPIC, 8259A pair, 8254 PIT, CMOS/RTC, 16550 UART, ACPI PM block)
// wired together as on a PC (docs/devices.md) and into the VMM: port I/O
// and MSR exits, EPT-violation MMIO for the LAPIC and IOAPIC pages, timers
// that end a slice or wake a halted vCPU, and the interrupt that is
// injected on the next VM entry (SDM 3C §27.6, §25.8.3).
//
// One vCPU per guest for now (its LAPIC is the BSP, APIC ID 0). The models
// are not thread-safe: everything here runs on the guest's own CPU.
#pragma once
#include <stdint.h>
#include "devices/lapic/lapic.hpp"

namespace mamori::vm {

struct Guest;

// Builds the platform of `g` (RAM and EPT exist) and registers its MMIO
// regions. False with a reason logged.
bool create_platform(Guest& g);
// A platform reset (reboot): every device back to its power-on state.
void reset_platform(Guest& g);

// What a port write asks of the platform (reset control 0xCF9, the 8042's
// pulse-reset command, ACPI PM1 control soft-off).
enum class PlatformAction : uint8_t { None, Reset, PowerOff };

// Port I/O: true when a device of the platform decodes `port`; `value` is
// the result of an IN (size bytes, zero-extended) or the OUT's value.
bool platform_io(Guest& g, uint16_t port, unsigned size, bool in, uint32_t& value, PlatformAction& action);

// The LAPIC's MSRs (IA32_APIC_BASE 0x1B, IA32_TSC_DEADLINE 0x6E0, the
// x2APIC range 0x800-0x8FF). NotMine: not one of them.
devices::lapic::MsrStatus platform_read_msr(Guest& g, uint32_t msr, uint64_t& value);
devices::lapic::MsrStatus platform_write_msr(Guest& g, uint32_t msr, uint64_t value);

// The initial APIC ID of the guest's vCPU (CPUID.01H:EBX[31:24], 0BH:EDX).
uint32_t guest_apic_id(const Guest& g);
// Rates the guest sees (CPUID leaves 0x15/0x16 and the hypervisor timing
// leaf state them): its TSC runs at the host's rate, its APIC timer at the
// "core crystal clock" of leaf 0x15, which Linux takes as the APIC timer
// rate without calibrating it (arch/x86/kernel/tsc.c native_calibrate_tsc).
uint64_t guest_tsc_hz();
uint64_t guest_apic_timer_hz();

}  // namespace mamori::vm
