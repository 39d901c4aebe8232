// RDMSR and WRMSR exits (docs/guest-abi.md, "MSRs").
#include "vmm/arch/cpu.hpp"
#include "vmm/vm/exit_handlers.hpp"

namespace mamori::vm {

[[gnu::noinline]] ExitAction on_rdmsr(Guest& g, const vmx::ExitInfo& e) {
  uint32_t msr = lo32(g.regs.rcx);
  uint64_t v = 0;
  switch (msr) {
    case 0x10: v = cpu::rdtsc(); break;           // IA32_TIME_STAMP_COUNTER
    case 0x1B: v = 0xFEE00000; break;             // IA32_APIC_BASE: no local APIC for guests (enable bit 0)
    case 0x8B: v = 0; break;                      // IA32_BIOS_SIGN_ID: no microcode
    case 0xFE: v = 0; break;                      // IA32_MTRRCAP: no MTRRs
    case 0x2FF: v = 0; break;                     // IA32_MTRR_DEF_TYPE: MTRRs off (EPT decides)
    case 0x1A0: v = 1; break;                     // IA32_MISC_ENABLE: fast strings only
    default:
      GUEST_LOG(g, "vm %s: RDMSR 0x%x is not on the allowlist: #GP injected", g.name, msr);
      inject_hw_exception(kVectorGp, true);
      return ExitAction::Resume;
  }
  g.regs.rax = lo32(v);
  g.regs.rdx = v >> 32;
  next_rip(e);
  return ExitAction::Resume;
}

[[gnu::noinline]] ExitAction on_wrmsr(Guest& g, const vmx::ExitInfo&) {
  GUEST_LOG(g, "vm %s: WRMSR 0x%x is not allowed: #GP injected", g.name, lo32(g.regs.rcx));
  inject_hw_exception(kVectorGp, true);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
