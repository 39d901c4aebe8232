// The one general-purpose register file of the VMM (guest exits, ring-3
// system calls and faults, CPU exceptions), in ModRM/REX encoding order
// (SDM 2 §2.1.5, Table 2-2): gpr[n] is the register that encoding n names,
// so the instruction decoder indexes it directly. The rsp slot is kept for
// the encoding: a guest's RSP lives in the VMCS (SDM 3C §25.4.1), a ring-3
// RSP in the frame the CPU pushes. Layout as Hedron's include/regs.hpp.
#pragma once
#include <stdint.h>

namespace mamori::arch {

enum class Gpr : uint8_t { Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15 };
inline constexpr unsigned kNumGprs = 16;

struct Gprs {
  union {
    uint64_t gpr[kNumGprs];
    struct {
      uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
    };
  };
  uint64_t& operator[](Gpr r) { return gpr[static_cast<uint8_t>(r)]; }
  uint64_t operator[](Gpr r) const { return gpr[static_cast<uint8_t>(r)]; }
};
static_assert(sizeof(Gprs) == 128);

// Byte offsets, as vmm/arch/gprs.S.inc uses them.
inline constexpr unsigned gpr_offset(Gpr r) { return 8u * static_cast<uint8_t>(r); }
static_assert(__builtin_offsetof(Gprs, rax) == 0 && __builtin_offsetof(Gprs, rbx) == 24 &&
              __builtin_offsetof(Gprs, rdi) == 56 && __builtin_offsetof(Gprs, r15) == 120);

}  // namespace mamori::arch
