// A ring-3 process's registers while it is not running (saved by the
// system-call entry and the user-fault path, loaded by partition_enter).
#pragma once
#include <stdint.h>

namespace mamori::partition {

struct UserContext {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;  // 0..112
  uint64_t rip, rsp, rflags;  // 120, 128, 136
  uint64_t cr3;               // 144: the process's page tables
  uint64_t fs_base;           // 152: arch_prctl(ARCH_SET_FS)
};
static_assert(__builtin_offsetof(UserContext, rip) == 120);
static_assert(__builtin_offsetof(UserContext, cr3) == 144);
static_assert(__builtin_offsetof(UserContext, fs_base) == 152);

// Why partition_enter returned.
enum class LeaveReason : uint64_t { Syscall = 0, Fault = 1 };

// Runs the process from `ctx` in ring 3 until a system call that the VMM
// must handle outside it (blocking read, exit) or a fault. On return, `ctx`
// holds its registers (for a system call: RAX = the number, as entered).
extern "C" LeaveReason partition_enter(UserContext* ctx);

}  // namespace mamori::partition
