// The interface between a guest-visible TPM register model (TIS FIFO or CRB)
// and the vTPM engine that executes commands.
//
// Commands complete asynchronously: the model submits a whole command and
// returns to the guest at once (the guest polls or waits for an interrupt);
// the engine later reports completion through TpmCompletion. Inside the VMM
// the engine is this VM's vTPM service process; in host tests it is libtpms.
//
// Ownership: the model owns both buffers. `command` is valid only during
// submit(): the engine copies it (into its message to the vTPM process, or
// to libtpms) before returning. `response` belongs to the engine from
// submit() until its complete() — also for a command the model has aborted
// meanwhile, which is why a model starts no new command (and writes no
// local response) while an aborted one is still in the engine. The model is
// not thread-safe: the VMM serialises MMIO calls and complete() per VM (one
// lock per TPM device).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm {

// Buffer capacity for one command or one response. 4096 is libtpms's
// default TPM_BUFFER_MAX and the largest MAX_COMMAND_SIZE/MAX_RESPONSE_SIZE
// a PC-client TPM 2.0 reports (TPM_PT_MAX_COMMAND_SIZE).
inline constexpr size_t kTpmBufferSize = 4096;

// Identifies one submission so a late completion of an aborted command
// (commandReady during execution, locality seize) is recognised as stale.
using SubmissionId = uint32_t;

class TpmCompletion {
 public:
  // The command `id` finished; `response_len` bytes are in the response
  // buffer given to submit(). A length above the buffer capacity or below a
  // TPM header is treated by the model as an engine failure.
  virtual void complete(SubmissionId id, size_t response_len) = 0;

 protected:
  ~TpmCompletion() = default;  // never deleted through this interface
};

class TpmBackend {
 public:
  // Start executing `command[0..command_len)` issued at `locality` (copy it
  // now: the bytes may change after submit() returns). The engine writes the
  // response to `response` (capacity `response_cap`) and then calls
  // done.complete(id, len) — possibly before submit() returns.
  virtual void submit(SubmissionId id, uint8_t locality, const uint8_t* command,
                      size_t command_len, uint8_t* response, size_t response_cap,
                      TpmCompletion& done) = 0;
  // Ask the engine to cancel submission `id` early (PTP TPM_STS_x
  // .commandCancel, TPM_CRB_CTRL_CANCEL_x). Best effort: complete() is still called exactly once,
  // with the command's result or a TPM_RC_CANCELED response.
  virtual void cancel(SubmissionId id) = 0;

 protected:
  ~TpmBackend() = default;
};

// A device model's interrupt output. Models are level-triggered: the line is
// asserted while (status & enable) != 0 and the global enable is set; the
// sink is told only about edges of that condition.
class InterruptSink {
 public:
  virtual void set_level(bool asserted, uint8_t vector) = 0;

 protected:
  ~InterruptSink() = default;
};

}  // namespace mamori::vtpm
