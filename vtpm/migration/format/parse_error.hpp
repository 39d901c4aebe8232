// Why a migration message was refused at the parsing stage. Every value has
// a human-readable reason (to_string) printed by vtpm-migrate.
#pragma once

namespace mamori::vtpm::migration {

enum class ParseError {
  kOk,
  kTruncated,        // shorter than its own header says
  kOversized,        // longer than its header says, or a size over the limits
  kBadMagic,         // not this kind of message
  kUnknownVersion,   // a format version this build does not speak
  kMalformed,        // a field is structurally invalid (bad TPM2B, reserved bits)
  kBadPublicArea,    // the storage key's public area is unusable
};

const char* to_string(ParseError e);

}  // namespace mamori::vtpm::migration
