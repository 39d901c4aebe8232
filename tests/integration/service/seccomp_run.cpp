// seccomp_run: runs a program under a seccomp filter that allows only the
// partition-mode system-call allowlist (vtpm/service/partition/
// syscall_allowlist.hpp) and kills the whole process on any other call.
// usage: seccomp_run PROGRAM [ARGS...]
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

#include "vtpm/service/partition/syscall_allowlist.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) {
    fprintf(stderr, "seccomp_run: seccomp_init failed\n");
    return 2;
  }
  for (const char* name : mamori::vtpm::partition::kSyscallAllowlist) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) {
      fprintf(stderr, "seccomp_run: cannot allow %s\n", name);
      return 2;
    }
  }
  if (seccomp_load(ctx) != 0) {
    fprintf(stderr, "seccomp_run: seccomp_load failed\n");
    return 2;
  }
  seccomp_release(ctx);
  execv(argv[1], argv + 1);
  return 127;  // execv failed (and the filter may already have killed us)
}
