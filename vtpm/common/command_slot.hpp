// The submission bookkeeping shared by the TIS and CRB models: which
// command the guest waits for, which one the engine holds, and the start
// that waits for an aborted command to finish.
//
// Both interfaces (PTP "FIFO Interface" and "CRB Interface") let software
// abort a command (commandReady / goIdle / a locality change) while the
// engine still executes it. The engine owns the response buffer until it
// completes, so a command started after an abort is deferred until then,
// and the aborted command's completion must be recognised as stale and
// dropped instead of being shown to the guest (TpmBackend contract,
// tpm_backend.hpp). Pure, no allocation.
#pragma once

#include <stdint.h>

#include "vtpm/common/tpm_backend.hpp"

namespace mamori::vtpm {

class CommandSlot {
 public:
  // What a completion from the engine means for the interface.
  enum class Completion : uint8_t {
    ignored,  // not the submission the engine holds: drop
    stale,    // an aborted command finished; start_deferred() tells whether to submit now
    current,  // the command the guest waits for finished: show the response
  };

  // A new command the guest waits for (tpmGo / START). Returns true when the
  // engine is free and the caller submits it now (submitted()), false when
  // the engine still runs an aborted command: the start is deferred.
  bool begin() {
    current_ = next_++;
    if (next_ == 0) next_ = 1;
    if (in_flight_) {
      deferred_ = true;
      return false;
    }
    return true;
  }

  // The caller answers the current command (a deferred start included); it
  // hands the command to the engine only after marking it with submitted().
  void clear_deferred() { deferred_ = false; }
  SubmissionId submitted() {
    deferred_ = false;
    in_flight_ = true;
    in_flight_id_ = current_;
    return current_;
  }

  // The engine finished `id`; `waiting` tells whether the interface is still
  // in its execution state (the guest waits for a response).
  Completion complete(SubmissionId id, bool waiting) {
    if (!in_flight_ || id != in_flight_id_) return Completion::ignored;
    in_flight_ = false;
    if (!waiting || id != current_) return Completion::stale;
    return Completion::current;
  }
  // After a stale completion: a deferred start may run now.
  bool start_deferred(bool waiting) const { return deferred_ && waiting; }

  // Aborts the current command: cancels it in the engine when it is the one
  // running (`executing`: the interface is in its execution state); its
  // completion will arrive and be dropped.
  void abort(TpmBackend& backend, bool executing) {
    if (executing && running_current()) backend.cancel(current_);
    current_ = 0;
    deferred_ = false;
  }

  // Platform reset: whatever the engine holds is cancelled and dropped.
  void reset(TpmBackend& backend) {
    if (in_flight_) backend.cancel(in_flight_id_);
    current_ = 0;
    deferred_ = false;
  }

  bool in_flight() const { return in_flight_; }
  bool running_current() const { return in_flight_ && in_flight_id_ == current_; }
  SubmissionId current() const { return current_; }

 private:
  SubmissionId next_ = 1;
  SubmissionId current_ = 0;  // the submission the guest waits for
  bool in_flight_ = false;    // the engine holds a submission (current or aborted)
  SubmissionId in_flight_id_ = 0;
  bool deferred_ = false;     // started while an aborted command still ran
};

}  // namespace mamori::vtpm
