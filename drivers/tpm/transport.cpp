#include "drivers/tpm/transport.hpp"

namespace mamori::drivers::tpm {

const char* tpm_error_name(TpmError e) {
  switch (e) {
    case TpmError::None: return "ok";
    case TpmError::NoDevice: return "no TPM answers (registers float or are not valid)";
    case TpmError::BadInterface: return "the CRB control area describes unusable buffers";
    case TpmError::LocalityTimeout: return "locality not granted within TIMEOUT_A";
    case TpmError::ReadyTimeout: return "TPM did not become ready within TIMEOUT_B";
    case TpmError::BurstCountTimeout: return "burstCount stayed 0 for TIMEOUT_A";
    case TpmError::StsValidTimeout: return "stsValid not set within TIMEOUT_C";
    case TpmError::ExpectMismatch: return "the TPM's Expect bit disagrees with the command size";
    case TpmError::CommandTimeout: return "command did not complete in time (canceled)";
    case TpmError::CommandMalformed: return "command shorter than its header or size field wrong";
    case TpmError::CommandTooLarge: return "command larger than the TPM's buffer";
    case TpmError::ResponseTooLarge: return "response size field larger than the buffer";
    case TpmError::ResponseMalformed: return "response size field smaller than the header";
    case TpmError::ResponseShort: return "response ended before its size field's bytes";
    case TpmError::ResponseOverrun: return "TPM offers more response bytes than its size field";
    case TpmError::TpmFatal: return "TPM reports a fatal error (CRB tpmSts)";
  }
  return "?";
}

}  // namespace mamori::drivers::tpm
