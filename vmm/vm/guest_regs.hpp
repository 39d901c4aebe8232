// The VM entry/exit stub (vmm/vm/entry.S). The guest's general-purpose
// registers are the VMM's one register file (arch::Gprs, SDM encoding
// order) in Guest::regs; the VMCS holds RSP, RIP and RFLAGS, everything
// else is ours to keep (SDM 3C §27.3).
#pragma once
#include <stdint.h>
#include "vmm/arch/regs.hpp"

namespace mamori::vm {

enum class EnterResult : int { Exited = 0, FailInvalid = 1, FailValid = 2 };

// Loads the guest's registers and VMLAUNCHes (launched == 0) or VMRESUMEs
// the current VMCS. Returns after the next VM exit with the guest's
// registers saved, or at once when the instruction fails. `regs` must be
// followed by the CR2 and host-RSP slots (Guest::cr2, Guest::host_rsp), and
// the VMCS host RSP must be exit_stack_top(regs).
extern "C" EnterResult vmx_enter(arch::Gprs* regs, int launched);

// The VMCS host RSP: just past the register file, where the exit stub
// starts pushing (entry.S).
inline uint64_t exit_stack_top(arch::Gprs& regs) { return reinterpret_cast<uint64_t>(&regs + 1); }

}  // namespace mamori::vm
