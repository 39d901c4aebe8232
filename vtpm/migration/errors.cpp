#include "vtpm/migration/errors.hpp"

namespace mamori::vtpm::migration {

const char* to_string(Refusal r) {
  switch (r) {
    case Refusal::kMalformed: return "malformed";
    case Refusal::kUnknownVersion: return "unknown-version";
    case Refusal::kWrongDestination: return "wrong-destination";
    case Refusal::kWrongVm: return "wrong-vm";
    case Refusal::kReplayed: return "replayed";
    case Refusal::kStaleEpoch: return "stale-epoch";
    case Refusal::kTamperedHeader: return "tampered-header";
    case Refusal::kTamperedCiphertext: return "tampered-ciphertext";
    case Refusal::kKeyUnwrapFailed: return "key-unwrap-failed";
    case Refusal::kBadOffer: return "bad-offer";
    case Refusal::kBadAck: return "bad-ack";
    case Refusal::kTpmError: return "tpm-error";
    case Refusal::kTransport: return "transport";
    case Refusal::kVtpmError: return "vtpm-error";
    case Refusal::kUsage: return "usage";
    case Refusal::kState: return "state";
  }
  return "?";
}

}  // namespace mamori::vtpm::migration
