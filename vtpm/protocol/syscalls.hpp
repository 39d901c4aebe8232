// The one table of Linux x86-64 system calls a vTPM engine (vtpm-service)
// may make (numbers: arch/x86/entry/syscalls/syscall_64.tbl). Both ends use
// it: the host-mode seccomp allowlist (vtpm/service/partition/
// syscall_allowlist.hpp: anything else kills the process) and the VMM's
// partition dispatcher (vmm/partition/syscall_check.hpp proves at compile
// time that it serves exactly the `both` entries). Measured on Debian 12
// (glibc 2.36 static, OpenSSL 3.0, libtpms 0.9): docs/vtpm-protocol.md.
// Header only.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::protocol {

enum class SyscallUse : uint8_t {
  both,       // allowed by seccomp and served by the VMM
  host_only,  // the seccomp wrapper's own execve of the service
};

struct SyscallEntry {
  const char* name;
  uint32_t number;
  SyscallUse use;
};

inline constexpr SyscallEntry kEngineSyscalls[] = {
    // process start-up (glibc static init)
    {"execve", 59, SyscallUse::host_only},
    {"arch_prctl", 158, SyscallUse::both},
    {"set_tid_address", 218, SyscallUse::both},
    {"set_robust_list", 273, SyscallUse::both},
    {"rseq", 334, SyscallUse::both},
    {"prlimit64", 302, SyscallUse::both},
    {"readlink", 89, SyscallUse::both},  // /proc/self/exe, glibc's _dl_non_dynamic_init; failure is tolerated
    // memory
    {"brk", 12, SyscallUse::both},
    {"mmap", 9, SyscallUse::both},
    {"munmap", 11, SyscallUse::both},
    {"mprotect", 10, SyscallUse::both},
    {"madvise", 28, SyscallUse::both},
    {"mremap", 25, SyscallUse::both},
    // the two frame pipes (fd 0 in, fd 1 out) and the log (fd 2)
    {"read", 0, SyscallUse::both},
    {"write", 1, SyscallUse::both},
    {"writev", 20, SyscallUse::both},  // glibc's fatal-error path (__libc_message)
    {"close", 3, SyscallUse::both},    // served by the VMM since bring-up; not seen in the host measurement
    // glibc stdio's first use of a stream (fstat for its buffering, lseek
    // for its position): seen when libtpms or OpenSSL writes a diagnostic
    // to fd 2; fd 0-2 are character devices (pipes in host mode)
    {"newfstatat", 262, SyscallUse::both},
    {"lseek", 8, SyscallUse::both},
    // OpenSSL / libtpms: entropy, fork detection, time, (uncontended) locks
    {"getrandom", 318, SyscallUse::both},
    {"getpid", 39, SyscallUse::both},
    {"gettid", 186, SyscallUse::both},  // as close: served, harmless, not seen in the host measurement
    {"clock_gettime", 228, SyscallUse::both},
    {"time", 201, SyscallUse::both},  // time() where no vDSO is mapped (the partition maps none)
    {"futex", 202, SyscallUse::both},
    // end
    {"exit_group", 231, SyscallUse::both},
    {"exit", 60, SyscallUse::both},
};
inline constexpr size_t kEngineSyscallCount = sizeof kEngineSyscalls / sizeof kEngineSyscalls[0];

constexpr const SyscallEntry* find_engine_syscall(uint64_t number) {
  for (const SyscallEntry& e : kEngineSyscalls)
    if (e.number == number) return &e;
  return nullptr;
}

constexpr bool names_equal(const char* a, const char* b) {
  for (; *a && *a == *b; ++a, ++b) {
  }
  return *a == *b;
}

// No number or name twice.
constexpr bool engine_syscalls_unique() {
  for (size_t i = 0; i < kEngineSyscallCount; ++i)
    for (size_t j = i + 1; j < kEngineSyscallCount; ++j)
      if (kEngineSyscalls[i].number == kEngineSyscalls[j].number ||
          names_equal(kEngineSyscalls[i].name, kEngineSyscalls[j].name))
        return false;
  return true;
}
static_assert(engine_syscalls_unique());

}  // namespace mamori::vtpm::protocol
