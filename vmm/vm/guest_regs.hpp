// Guest general-purpose registers as the entry stub saves them (the VMCS
// holds RSP, RIP and RFLAGS; everything else is ours to keep, SDM 3C §27.3).
#pragma once
#include <stdint.h>

namespace mamori::vm {

struct GuestRegs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t cr2;  // not in the VMCS either (§27.3.1.1): saved by the stub too
};
// Offsets used by vmm/vm/entry.S.
static_assert(__builtin_offsetof(GuestRegs, rax) == 0);
static_assert(__builtin_offsetof(GuestRegs, rdi) == 40);
static_assert(__builtin_offsetof(GuestRegs, r15) == 112);
static_assert(__builtin_offsetof(GuestRegs, cr2) == 120);

enum class EnterResult : int { Exited = 0, FailInvalid = 1, FailValid = 2 };

// Loads the guest's registers and VMLAUNCHes (launched == 0) or VMRESUMEs
// the current VMCS. Returns after the next VM exit with the guest's
// registers saved, or at once when the instruction fails.
extern "C" EnterResult vmx_enter(GuestRegs* regs, int launched);

}  // namespace mamori::vm
