// Virtual interrupts into the guest: before each VM entry, the event the
// guest's interrupt controllers have for it is injected through the
// VM-entry interruption-information field (SDM 3C §27.6), or, when the
// guest cannot take it now (RFLAGS.IF clear, an STI/MOV-SS shadow, an NMI
// handler running, an event already being injected), an interrupt or NMI
// window is requested and the injection is retried on that exit (§26.7.5,
// §26.7.6), as Zircon's and KVM's VMX code do.
#pragma once
#include "vmm/vm/guest.hpp"
#include "vmx/controls.hpp"

namespace mamori::vm {

// Called on the guest's CPU with its VMCS current, before each VM entry.
void deliver_events(Guest& g);
// Whether deliver_events() has anything to do (inline: asked on every entry).
inline bool events_to_deliver(const Guest& g) {
  constexpr uint32_t kWindows =
      vmx::bit_of(vmx::ProcCtl::interrupt_window_exiting) | vmx::bit_of(vmx::ProcCtl::nmi_window_exiting);
  return g.irq_waiting || (g.proc_controls & kWindows);
}

// The window exit came: the control that caused it is cleared (the next
// deliver_events sets it again if still needed).
void window_opened(Guest& g, bool nmi_window);

}  // namespace mamori::vm
