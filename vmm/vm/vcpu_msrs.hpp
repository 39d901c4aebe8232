// A guest's MSR state (the values of vmm/vcpu/msr_table's MSRs) and the
// switching of the physical MSRs whose guest value must be in the CPU
// while the guest runs: IA32_STAR, IA32_LSTAR, IA32_FMASK,
// IA32_KERNEL_GS_BASE, IA32_TSC_AUX, IA32_SPEC_CTRL (docs/guest-abi.md,
// "MSRs"; docs/security.md, "Guest -> host: syscall MSRs"). The rules are
// vmm/vcpu/msr_switch's (pure, host-tested); this CPU's instance lives in
// vmm/vm/msrs.cpp.
//
// load_guest_msrs before a VM entry whose guest's values are not in the
// CPU (vm/scheduler.cpp tests VcpuMsrs::loaded) puts them in where the
// CPU holds others, and they stay there across exits; release_guest_msrs before the service partition runs on
// this CPU (partition/vtpm_engine.cpp, next to release_fpu) puts the
// host's back. Loading another guest reads the previous owner's
// KERNEL_GS_BASE back first (its SWAPGS changes it without an exit).
#pragma once
#include "vmm/vcpu/msr_switch.hpp"

namespace mamori::vm {

struct Guest;

// Guest::msrs: its values (`state`) and `fresh` (none of them in any CPU:
// a new or reloaded guest).
using VcpuMsrs = vcpu::SwitchedGuest;

// Call only when !g.msrs.loaded (the entry path's inline check: values
// still in the CPU cost nothing).
void load_guest_msrs(Guest& g);
void release_guest_msrs();

}  // namespace mamori::vm
