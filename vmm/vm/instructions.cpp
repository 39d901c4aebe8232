// Exits of instructions that touch what the VMM keeps from guests: the
// caches (INVD, WBINVD), the performance counters (RDPMC), MONITOR/MWAIT
// and PAUSE (docs/guest-abi.md, "Instructions"). Which of them exit is
// vmx/control_compute.cpp's choice: INVD always does (SDM 3C §26.1.2).
#include "vmm/vm/exit_handlers.hpp"

namespace mamori::vm {

// INVD and WBINVD. Guest memory is write-back in EPT and no device writes
// it behind the caches (no DMA into guests), so there is nothing a flush
// must make coherent: both complete without flushing, as KVM does without
// non-coherent DMA. INVD must never run on the host (it would drop the
// VMM's and other guests' dirty lines, SDM Vol. 2A INVD), so it is
// treated as WBINVD, as KVM does; and WBINVD is not executed either: a
// guest looping on it would otherwise flush the caches of every guest on
// the package.
[[gnu::noinline]] ExitAction on_invd_wbinvd(Guest&, const vmx::ExitInfo& e) {
  next_rip(e);
  return ExitAction::Resume;
}

// RDPMC: CPUID says there is no PMU (leaf 0AH zero), so every counter
// index is invalid: #GP(0) (SDM 2B RDPMC). The physical counters are the
// host's.
[[gnu::noinline]] ExitAction on_rdpmc(Guest& g, const vmx::ExitInfo&) {
  GUEST_LOG(g, "vm %s: RDPMC 0x%x (no PMU for guests): #GP injected", g.name, lo32(g.regs.rcx));
  inject_hw_exception(kVectorGp, true);
  return ExitAction::Resume;
}

// MONITOR and MWAIT: CPUID.01H:ECX.MONITOR is clear, so both are #UD
// (SDM 2B MONITOR, MWAIT: "#UD if CPUID.01H:ECX.MONITOR[bit 3] = 0").
[[gnu::noinline]] ExitAction on_monitor_mwait(Guest& g, const vmx::ExitInfo& e) {
  GUEST_LOG(g, "vm %s: %s (not offered by CPUID): #UD injected", g.name, vmx::exit_reason_name(e.basic()));
  inject_hw_exception(kVectorUd, false);
  return ExitAction::Resume;
}

// PAUSE (only with PAUSE exiting or PAUSE-loop exiting): a spin-wait
// hint; the slice check after the exit lets other guests run.
[[gnu::noinline]] ExitAction on_pause(Guest&, const vmx::ExitInfo& e) {
  next_rip(e);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
