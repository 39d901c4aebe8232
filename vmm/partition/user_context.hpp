// A ring-3 process's registers while it is not running (saved by the
// system-call entry and the user-fault path, loaded by partition_enter).
#pragma once
#include <stdint.h>
#include "vmm/arch/regs.hpp"

namespace mamori::partition {

struct UserContext {
  arch::Gprs regs;            // 0..127: the one register file (the rsp slot unused: rsp below)
  uint64_t rip, rsp, rflags;  // 128, 136, 144
  uint64_t cr3;               // 152: the process's page tables
  uint64_t fs_base;           // 160: arch_prctl(ARCH_SET_FS)
};
// vmm/partition/entry.S uses these offsets.
static_assert(__builtin_offsetof(UserContext, rip) == 128);
static_assert(__builtin_offsetof(UserContext, rsp) == 136);
static_assert(__builtin_offsetof(UserContext, rflags) == 144);
static_assert(__builtin_offsetof(UserContext, cr3) == 152);
static_assert(__builtin_offsetof(UserContext, fs_base) == 160);

// Why partition_enter returned.
enum class LeaveReason : uint64_t { Syscall = 0, Fault = 1 };

// Runs the process from `ctx` in ring 3 until a system call that the VMM
// must handle outside it (blocking read, exit) or a fault. On return, `ctx`
// holds its registers (for a system call: RAX = the number, as entered).
extern "C" LeaveReason partition_enter(UserContext* ctx);

}  // namespace mamori::partition
