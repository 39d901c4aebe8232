#include "vtpm/service/host/isolated_validation.hpp"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace mamori::vtpm::host {

namespace {
constexpr int kChildAccepted = 0;
constexpr int kChildRefused = 1;
}  // namespace

Isolated validate_isolated(engine::TpmEngine& tpm, engine::BlobType type, const uint8_t* data, size_t len) {
  const pid_t pid = fork();
  if (pid < 0) return Isolated::fork_failed;
  if (pid == 0) {
    // The child owns a copy of the whole TPM; its listener (the state
    // directory) must not see the trial blob.
    tpm.set_listener(nullptr);
    // A fault must end the trial process plainly, whatever handlers the
    // parent had (sanitizers, fuzzers): it is the expected failure mode.
    for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(sig, SIG_DFL);
    _exit(tpm.set_state(type, data, len) == 0 ? kChildAccepted : kChildRefused);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Isolated::crashed;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status) == kChildAccepted ? Isolated::accepted : Isolated::refused;
  return Isolated::crashed;
}

const char* isolated_name(Isolated r) {
  switch (r) {
    case Isolated::accepted: return "accepted";
    case Isolated::refused: return "refused by validation";
    case Isolated::crashed: return "crashed libtpms' validation in the trial process";
    case Isolated::fork_failed: return "trial process could not be started";
  }
  return "?";
}

}  // namespace mamori::vtpm::host
