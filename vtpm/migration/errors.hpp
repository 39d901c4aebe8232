// Host-side error type: every refusal carries a code (tested) and a clear
// reason (printed). A refusal is raised before any state is changed.
#pragma once
#include <stdexcept>
#include <string>

namespace mamori::vtpm::migration {

enum class Refusal {
  kMalformed,            // truncated / oversized / bad magic / bad field
  kUnknownVersion,
  kWrongDestination,     // not addressed to this TPM's storage key
  kWrongVm,
  kReplayed,             // nonce not outstanding (never offered or consumed)
  kStaleEpoch,           // epoch not newer than the last one seen for this VM
  kTamperedHeader,       // header MAC fails
  kTamperedCiphertext,   // GCM tag fails
  kKeyUnwrapFailed,      // the destination TPM refused the wrapped key
  kBadOffer,
  kBadAck,
  kTpmError,             // the physical TPM returned an error
  kTransport,            // I/O with a TPM or vTPM failed
  kVtpmError,            // the vTPM instance refused a control command
  kUsage,
  kState,                // local migration state missing or inconsistent
};

const char* to_string(Refusal r);

class MigrationError : public std::runtime_error {
 public:
  MigrationError(Refusal code, const std::string& reason)
      : std::runtime_error(std::string(to_string(code)) + ": " + reason), code_(code) {}
  Refusal code() const { return code_; }

 private:
  Refusal code_;
};

}  // namespace mamori::vtpm::migration
