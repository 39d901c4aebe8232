// Host-only TpmBackend that executes commands on real libtpms (TPM 2.0).
// libtpms keeps one TPM per process, so a test executable creates exactly
// one LibtpmsBackend (instance() enforces that).
//
// Two completion modes let tests exercise the models' asynchronous paths:
//  - Immediate: complete() is called from inside submit();
//  - Deferred: submissions wait until run_pending() (a "later" the test
//    controls), so guests see the Execution state and can cancel/abort.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "vtpm/common/tpm_backend.hpp"

namespace mamori::test {

class LibtpmsBackend final : public vtpm::TpmBackend {
 public:
  enum class Mode { Immediate, Deferred };

  // The process's libtpms TPM, initialised and started (TPM2_Startup(CLEAR))
  // on first use. Aborts the test run with a message if libtpms fails.
  static LibtpmsBackend& instance();

  void set_mode(Mode m) { mode_ = m; }
  void submit(vtpm::SubmissionId id, uint8_t locality, const uint8_t* command, size_t command_len,
              uint8_t* response, size_t response_cap, vtpm::TpmCompletion& done) override;
  void cancel(vtpm::SubmissionId id) override;

  // Executes queued submissions (Deferred mode); returns how many ran.
  size_t run_pending();
  size_t pending() const { return queue_.size(); }
  uint64_t submissions() const { return submissions_; }
  uint64_t cancels() const { return cancels_; }
  // The command bytes of the last submission (what the engine received).
  const std::vector<uint8_t>& last_command() const { return last_command_; }

  // Runs one command directly on libtpms (test setup, e.g. reading PCRs).
  std::vector<uint8_t> execute(const std::vector<uint8_t>& command);

 private:
  LibtpmsBackend();
  struct Pending {
    vtpm::SubmissionId id;
    std::vector<uint8_t> command;
    uint8_t* response;
    size_t response_cap;
    vtpm::TpmCompletion* done;
    bool canceled;
  };
  void run(Pending& p);

  Mode mode_ = Mode::Immediate;
  std::vector<Pending> queue_;
  std::vector<uint8_t> last_command_;
  uint64_t submissions_ = 0;
  uint64_t cancels_ = 0;
};

// Helpers to build the commands the replays send (TPM 2.0 Part 3).
std::vector<uint8_t> make_get_random(uint16_t bytes);
std::vector<uint8_t> make_pcr_extend_sha256(uint32_t pcr, uint8_t fill);
std::vector<uint8_t> make_pcr_read_sha256(uint32_t pcr);
std::vector<uint8_t> make_get_capability_total_commands();
uint32_t response_code(const std::vector<uint8_t>& rsp);

}  // namespace mamori::test
