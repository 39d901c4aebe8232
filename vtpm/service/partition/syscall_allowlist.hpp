// The Linux system calls vtpm-service makes in partition mode, from execve
// to exit: the set the VMM's partition runtime must implement, and the
// seccomp allowlist the integration test enforces (anything else kills the
// process). Measured on Debian 12 (glibc 2.36 static, OpenSSL 3.0 with its
// config loading disabled, libtpms 0.9); see docs/vtpm-protocol.md.
#pragma once

namespace mamori::vtpm::partition {

inline constexpr const char* kSyscallAllowlist[] = {
    // process start-up (glibc static init)
    "execve", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
    "readlink",  // /proc/self/exe, glibc's static _dl_non_dynamic_init; failure is tolerated
    // memory
    "brk", "mmap", "munmap", "mprotect", "madvise", "mremap",
    // the two frame pipes (fd 0 in, fd 1 out) and the log (fd 2)
    "read", "write",
    // OpenSSL / libtpms: entropy, fork detection, time, (uncontended) locks
    "getrandom", "getpid", "clock_gettime", "futex",
    // end
    "exit_group", "exit",
};

}  // namespace mamori::vtpm::partition
