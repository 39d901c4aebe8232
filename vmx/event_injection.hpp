// Can an event be injected on the next VM entry, or must the VMM wait for
// an interrupt/NMI window? The same SDM rules the entry checker enforces
// (§27.3.1.4 RFLAGS.IF, §27.3.1.5 interruptibility and activity state),
// asked before injecting instead of diagnosed after failing. Pure.
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/exit_qualification.hpp"

namespace mamori::vmx {

struct GuestEventState {
  uint64_t rflags = 0x2;
  uint32_t interruptibility = 0;  // guest interruptibility state (§25.4.2 Table 25-3)
  uint32_t activity = 0;          // 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI
  bool virtual_nmis = false;      // pin-based "virtual NMIs" is 1
};

enum class InjectVerdict : uint8_t {
  now,                   // write the entry interruption-information field
  wait_interrupt_window, // set "interrupt-window exiting", retry on that exit
  wait_nmi_window,       // set "NMI-window exiting" (needs virtual NMIs)
  never,                 // not deliverable in this state (e.g. wait-for-SIPI)
};

InjectVerdict can_inject(const GuestEventState& g, InterruptionInfo event);

// The guest activity state to write with an injected event: the SDM lets a
// halted guest receive it, and VM entry then leaves HLT (§27.6.2); mamori
// always enters vectoring events in the active state.
constexpr uint32_t activity_after_injection(uint32_t activity) { return activity == 1 ? 0 : activity; }

// An event whose delivery a VM exit interrupted (IDT-vectoring information
// valid, §28.2.4 "Information for VM Exits During Event Delivery"): the
// VM-entry fields that deliver it again (§27.6 "Event Injection"). Bit 12
// of the IDT-vectoring field is undefined and reserved on entry (Table
// 25-17); the error code goes along when the event had one; software
// interrupts and exceptions (INT n, INT3/INTO, INT1) need the instruction
// length the exit recorded (§28.2.4) to push the right return address.
struct Reinjection {
  InterruptionInfo info{0};
  bool has_error_code = false;
  uint32_t error_code = 0;
  bool has_instruction_length = false;
  uint32_t instruction_length = 0;
};
constexpr Reinjection reinjection_of(InterruptionInfo vectoring, uint32_t error_code, uint32_t instruction_length) {
  using T = InterruptionInfo::Type;
  Reinjection r;
  r.info = {vectoring.raw & ~(1u << 12)};
  r.has_error_code = vectoring.deliver_error_code();
  r.error_code = r.has_error_code ? error_code : 0;
  const T t = vectoring.type();
  r.has_instruction_length =
      t == T::software_interrupt || t == T::privileged_software_exception || t == T::software_exception;
  r.instruction_length = r.has_instruction_length ? instruction_length : 0;
  return r;
}

// VMX-preemption timer value for `tsc_ticks` TSC cycles: the timer counts
// down by 1 every 2^shift TSC cycles (App. A.6); saturates at 32 bits.
constexpr uint32_t preemption_timer_value(const VmxCapabilities& c, uint64_t tsc_ticks) {
  const uint64_t v = tsc_ticks >> c.misc.preemption_timer_shift;
  return v > 0xFFFFFFFFull ? 0xFFFFFFFFu : static_cast<uint32_t>(v);
}

}  // namespace mamori::vmx
