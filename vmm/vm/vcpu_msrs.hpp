// A guest's MSR state (the values of vmm/vcpu/msr_table's MSRs) and the
// switching of the physical MSRs whose guest value must be in the CPU
// while the guest runs: IA32_STAR, IA32_LSTAR, IA32_FMASK,
// IA32_KERNEL_GS_BASE, IA32_TSC_AUX, IA32_SPEC_CTRL (docs/guest-abi.md,
// "MSRs"; docs/security.md, "Syscall MSRs").
//
// Lazily, per CPU: load_guest_msrs (before every VM entry) writes the
// guest's values where the CPU holds other ones and makes the guest this
// CPU's owner; they stay in the CPU across exits (the VMM itself never
// executes SYSCALL, SWAPGS or RDTSCP in ring 0). release_guest_msrs puts
// the host's values back before anything else that depends on them runs
// on this CPU: the service partition (its SYSCALL uses the host's STAR,
// LSTAR, FMASK) and another guest. The guest's SWAPGS changes the physical
// IA32_KERNEL_GS_BASE without an exit, so that one is read back from the
// CPU whenever the owner gives it up or reads it.
#pragma once
#include "vmm/vcpu/msr_table.hpp"

namespace mamori::vm {

struct Guest;

struct VcpuMsrs {
  vcpu::MsrState state = {};
  bool fresh = true;  // its values are not in any CPU (a new or reloaded guest)
};

void load_guest_msrs(Guest& g);
void release_guest_msrs();

}  // namespace mamori::vm
