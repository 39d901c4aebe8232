// Each guest's virtual platform: the pure device models of devices/ (local
// APIC, IOAPIC, 8259A pair, 8254 PIT, CMOS/RTC, 16550 UART, ACPI PM block)
// wired together as on a PC (docs/devices.md, "Wiring in the VMM") and into
// the VMM: port I/O and MSR exits, EPT-violation MMIO for the LAPIC and
// IOAPIC pages, device deadlines that end a slice or wake a halted vCPU,
// and the interrupt that is injected on the next VM entry
// (vmm/vm/event_delivery.hpp).
//
// One platform per guest, shared by its vCPUs (vmm/vm/guest.hpp): one
// LAPIC per vCPU (APIC ID = vCPU index, vCPU 0 the BSP), the rest once.
// Every function takes the vCPU's slot; the models are not thread-safe, so
// each entry point holds the platform's lock (vCPUs run on different
// CPUs, and an IPI or an IOAPIC message reaches another vCPU's LAPIC).
// The shared devices' deadlines are served by vCPU 0, each LAPIC timer by
// its own vCPU. The shell's `vm console` input reaches the UART through
// the guest's lock-free input ring (vmm/vm/guest.hpp), drained here.
#pragma once
#include <stdint.h>
#include "devices/lapic/lapic.hpp"
#include "vmm/vm/guest.hpp"

namespace mamori::vm {

struct Guest;

// Builds the platform of `g` (its RAM and EPT exist) in static storage and
// registers its MMIO regions. False with a reason logged.
bool create_platform(Guest& g);
// A platform reset (reboot): every device back to its power-on state, as
// firmware leaves it (COM1 at 115200 8N1, LINT0 ExtINT, LINT1 NMI); the
// CMOS NVRAM survives, as a battery-backed one does.
void reset_platform(Guest& g);

// What a port write asks of the platform: a reset (0xCF9 with RST_CPU,
// the 8042's pulse-reset command 0xFE) or soft-off (ACPI PM1a control).
enum class PlatformAction : uint8_t { None, Reset, PowerOff };
struct PortResult {
  bool claimed = false;    // a device of the platform decodes the port
  PlatformAction action = PlatformAction::None;
  const char* what = "";   // for the log when action != None
};

// Port I/O of `size` bytes: `value` is the OUT's value or receives the IN's
// result (zero-extended).
PortResult platform_io(Guest& g, uint16_t port, unsigned size, bool in, uint32_t& value);

// The LAPIC's MSRs (IA32_APIC_BASE 0x1B, IA32_TSC_DEADLINE 0x6E0, the
// x2APIC range 0x800-0x8FF). NotMine: not one of them.
devices::lapic::MsrStatus platform_read_msr(Guest& g, uint32_t msr, uint64_t& value);
devices::lapic::MsrStatus platform_write_msr(Guest& g, uint32_t msr, uint64_t value);

// MOV to/from CR8 is the LAPIC's TPR[7:4] (SDM 3A §10.8.6.1).
void platform_write_cr8(Guest& g, uint8_t value);
uint8_t platform_read_cr8(Guest& g);

// Time: brings every device up to `now` (guest TSC) when a deadline has
// passed and feeds console input to the UART; the next deadline is then in
// Guest::device_deadline (devices::kNever if none).
void platform_update(Guest& g, uint64_t now);
// Whether platform_update() has anything to do (inline: asked on every entry).
inline bool platform_update_due(const Guest& g, uint64_t now) {
  return now >= g.device_deadline || g.input_head != g.input_tail;
}

// An AP's start (INIT-SIPI-SIPI through its LAPIC's ICR, SDM 3A §9.4.4):
// an INIT it received puts it back in wait-for-SIPI (Guest::wait_sipi);
// true with the SIPI's vector once one came while it waited.
bool platform_take_start(Guest& ap, uint8_t& vector);

// The interrupt controllers' view for injection.
bool platform_interrupt_waiting(Guest& g);  // anything the vCPU will take once it can (IRR, ExtINT, NMI)
// The event to inject now given the vCPU's interruptibility (kind None if
// none), taken in the same step (IRR -> ISR, the 8259A's INTA, or the NMI)
// so that no other vCPU's IPI comes in between; `vector` is what to inject
// (for ExtINT the 8259A's answer to the INTA cycle).
devices::lapic::PendingEvent platform_take_event(Guest& g, const devices::lapic::Interruptibility& st, uint8_t& vector);

// `vm info`: the interrupt controllers' state, one line.
void platform_info(Guest& g);

// The initial APIC ID of a vCPU (its index in the guest) (CPUID.01H:EBX[31:24], 0BH:EDX).
uint32_t guest_apic_id(const Guest& g);
// Rates the guest sees (CPUID leaves 0x15/0x16 and the hypervisor timing
// leaf state them): its TSC runs at the host's rate, its APIC timer at the
// "core crystal clock" of leaf 0x15, which Linux takes as the APIC timer
// rate without calibrating it (arch/x86/kernel/tsc.c native_calibrate_tsc).
uint64_t guest_tsc_hz();
uint64_t guest_apic_timer_hz();

}  // namespace mamori::vm
