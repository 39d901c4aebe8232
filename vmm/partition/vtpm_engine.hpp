// The vTPM engine of one VM: a vtpm-service process in the service
// partition, spoken to in partition frames (docs/vtpm-protocol.md §1),
// behind the guest's TIS/CRB model as its TpmBackend.
//
// A command runs synchronously on the CPU of the guest that sent it,
// inside that guest's exit handling: the guest's FPU state is put aside,
// the process runs in ring 3 until it has answered and blocks in read(0)
// again, and the response completes the model's command before the guest
// is resumed. Every state_changed blob is kept (the latest of each type)
// before the response is passed on (§1.4).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "boot/bootinfo.hpp"
#include "vtpm/common/tpm_backend.hpp"

namespace mamori::partition {

struct Process;

class VtpmEngine final : public vtpm::TpmBackend {
 public:
  struct Limits {
    uint64_t memory_bytes;  // config vtpm_memory: its pages and page tables
    uint64_t budget_ms;     // config vtpm_budget_ms: CPU time per exchange (command, init, ...)
    const char* env;        // config vtpm_env: one NAME=VALUE for its environment, or "" / null
  };
  // Starts the process from the engine image (vtpm-service) and powers the
  // TPM on (init: a new TPM is manufactured). False with the reason logged.
  bool start(const char* vm_name, const boot::LoadedFile& image, const Limits& limits);
  void submit(vtpm::SubmissionId id, uint8_t locality, const uint8_t* command, size_t command_len,
              uint8_t* response, size_t response_cap, vtpm::TpmCompletion& done) override;
  void cancel(vtpm::SubmissionId) override {}
  // _TPM_Init, as at a platform reset: the TPM restarts from its held
  // state and wants TPM2_Startup again (docs/vtpm-protocol.md, init).
  bool reset();

  bool running() const { return running_; }
  uint64_t commands() const { return commands_; }
  uint64_t restarts() const { return restarts_; }
  uint64_t permanent_state_bytes() const { return state_len_[0]; }
  const Process* process() const { return proc_; }

 private:
  // Runs the process and handles the frames it wrote; `rsp` receives a
  // tpm_response (if any). Returns false if the process died.
  // The frame is `frame` then `payload` (either may be empty), fed to fd 0
  // in pieces that fit its input.
  bool exchange(const uint8_t* frame, size_t len, uint8_t* rsp, size_t rsp_cap, size_t& rsp_len, uint32_t& result,
                const uint8_t* payload = nullptr, size_t payload_len = 0);
  // A new process from the image, given the last committed state blobs
  // (set_state) and init; fresh (manufactured) if none were committed yet.
  bool restart(const char* why);
  // The process up to its first read, then init. False with a log line.
  bool power_on();

  Process* proc_ = nullptr;
  uint8_t* frame_buf_ = nullptr;   // reassembly buffer for the process's output
  uint8_t* cmd_frame_ = nullptr;   // one tpm_command frame being sent
  uint8_t* state_[3] = {};         // latest blob of each type (permanent, volatile, savestate)
  size_t state_len_[3] = {};
  bool running_ = false;
  uint64_t commands_ = 0;
  const boot::LoadedFile* image_ = nullptr;
  Limits limits_ = {};
  uint64_t budget_tsc_ = 0;
  unsigned failed_restarts_ = 0;  // restarts since the last answered command
  uint64_t restarts_ = 0;
  char name_[32] = {};
};

}  // namespace mamori::partition
