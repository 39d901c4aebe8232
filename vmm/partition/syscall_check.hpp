// The pure part of the service partition's system calls (docs/partition.md,
// docs/security.md): which handler serves a number, and the argument checks
// of the address-space calls. No hardware, no process: host-tested
// (tests/unit/vmm/test_syscall_check.cpp) and fuzzed
// (tests/fuzz/vmm/syscall_check_fuzz.cpp); vmm/partition/runner.cpp applies
// the results. Linux semantics (mm/mmap.c, mm/mprotect.c) where the
// partition keeps them; errno values from asm-generic/errno-base.h.
#pragma once
#include <stdint.h>
#include "vtpm/protocol/syscalls.hpp"

namespace mamori::partition::syscall {

inline constexpr uint64_t kPage = 4096;
// Lowest user address ever mapped (Linux's vm.mmap_min_addr = 65536): a VMM
// access through a small user-chosen pointer, or a GS/FS base of 0, finds
// no process memory.
inline constexpr uint64_t kMinUserAddress = 0x10000;
// The user half ends one page below the canonical hole (Linux's
// TASK_SIZE_MAX): a SYSCALL in the last page would return to a
// non-canonical RIP, and IRETQ's #GP for it would come in ring 0.
inline constexpr uint64_t kUserEnd = 0x00007FFFFFFFF000ull;
inline constexpr uint64_t kMaxMmapBytes = 1ull << 32;

inline constexpr int64_t kEPERM = 1, kENOENT = 2, kEBADF = 9, kEAGAIN = 11, kENOMEM = 12, kEACCES = 13,
                         kEFAULT = 14, kEINVAL = 22, kESPIPE = 29, kENOSYS = 38;
inline constexpr uint8_t kProtRead = 1, kProtWrite = 2, kProtExec = 4;  // Linux PROT_*
inline constexpr uint64_t kMapPrivate = 0x02, kMapFixed = 0x10, kMapAnonymous = 0x20;

// One handler per served call of the table (vtpm/protocol/syscalls.hpp).
enum class Handler : uint8_t {
  unknown, read, write, writev, close, brk, mmap, munmap, mprotect, mremap, madvise, getpid, gettid, arch_prctl,
  set_tid_address, set_robust_list, rseq, prlimit64, readlink, futex, clock_gettime, time, getrandom, exit,
  exit_group, newfstatat, lseek, count_
};

constexpr Handler handler_named(const char* n) {
  using vtpm::protocol::names_equal;
  constexpr struct { const char* name; Handler h; } kNames[] = {
      {"read", Handler::read}, {"write", Handler::write}, {"writev", Handler::writev}, {"close", Handler::close},
      {"brk", Handler::brk}, {"mmap", Handler::mmap}, {"munmap", Handler::munmap},
      {"mprotect", Handler::mprotect}, {"mremap", Handler::mremap}, {"madvise", Handler::madvise},
      {"getpid", Handler::getpid}, {"gettid", Handler::gettid}, {"arch_prctl", Handler::arch_prctl},
      {"set_tid_address", Handler::set_tid_address}, {"set_robust_list", Handler::set_robust_list},
      {"rseq", Handler::rseq}, {"prlimit64", Handler::prlimit64}, {"readlink", Handler::readlink},
      {"futex", Handler::futex}, {"clock_gettime", Handler::clock_gettime}, {"time", Handler::time},
      {"getrandom", Handler::getrandom}, {"exit", Handler::exit}, {"exit_group", Handler::exit_group},
      {"newfstatat", Handler::newfstatat}, {"lseek", Handler::lseek},
  };
  for (const auto& e : kNames)
    if (names_equal(e.name, n)) return e.h;
  return Handler::unknown;
}

// The handler for system call `nr`: unknown unless the table has it for
// the partition.
constexpr Handler handler_for(uint64_t nr) {
  const vtpm::protocol::SyscallEntry* e = vtpm::protocol::find_engine_syscall(nr);
  if (!e || e->use != vtpm::protocol::SyscallUse::both) return Handler::unknown;
  return handler_named(e->name);
}

// The dispatcher serves exactly the table: every partition entry has a
// handler, and every handler an entry (runner.cpp switches over Handler
// with no default, so -Wswitch makes each one served).
constexpr bool dispatcher_matches_table() {
  bool used[static_cast<unsigned>(Handler::count_)] = {};
  for (const auto& e : vtpm::protocol::kEngineSyscalls) {
    if (e.use != vtpm::protocol::SyscallUse::both) continue;
    Handler h = handler_named(e.name);
    if (h == Handler::unknown) return false;
    used[static_cast<unsigned>(h)] = true;
  }
  for (unsigned h = 1; h < static_cast<unsigned>(Handler::count_); ++h)
    if (!used[h]) return false;
  return true;
}
static_assert(dispatcher_matches_table(), "vtpm/protocol/syscalls.hpp and the partition's dispatcher differ");

// A page-aligned user range [start, start + len).
struct Range {
  uint64_t start = 0, len = 0;
};

// mmap(addr, len, prot, flags, fd, off): anonymous private only, W^X, at
// most 4 GiB; MAP_FIXED only page-aligned, at or above kMinUserAddress
// (else -EPERM, as Linux) and below kUserEnd. On success (0) `len` is
// rounded up to pages and `fixed` says whether `addr` is the place.
struct MmapCheck {
  int64_t error = 0;  // 0 or -errno
  bool fixed = false;
  uint64_t len = 0;
};
MmapCheck check_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags);

// mprotect(addr, len, prot): W^X; addr page-aligned, the range in the user
// half; below kMinUserAddress nothing is ever mapped (-ENOMEM, as Linux for
// unmapped ranges). 0 with `out` set, or -errno.
int64_t check_mprotect(uint64_t addr, uint64_t len, uint64_t prot, Range& out);

// munmap(addr, len): addr page-aligned, the range inside
// [kMinUserAddress, kUserEnd). 0 with `out` set, or -errno.
int64_t check_munmap(uint64_t addr, uint64_t len, Range& out);

// brk(want): the break may move within [brk_start, brk_limit] only.
bool brk_allowed(uint64_t want, uint64_t brk_start, uint64_t brk_limit);

// arch_prctl(ARCH_SET_FS, base): a user address (a non-canonical one
// would make the VMM's WRMSR fault).
bool fs_base_allowed(uint64_t base);

// The RFLAGS a process resumes with, from what SYSCALL saved in R11: its
// arithmetic flags, TF, DF, AC, ID; IF always set (the budget timer must
// reach ring 3); IOPL, NT, RF, VM, VIF, VIP never from ring 3 (SDM 3A §2.3).
uint64_t user_rflags(uint64_t saved);

}  // namespace mamori::partition::syscall
