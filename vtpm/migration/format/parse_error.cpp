#include "vtpm/migration/format/parse_error.hpp"

namespace mamori::vtpm::migration {

const char* to_string(ParseError e) {
  switch (e) {
    case ParseError::kOk: return "ok";
    case ParseError::kTruncated: return "truncated: shorter than its header declares";
    case ParseError::kOversized: return "oversized: longer than its header declares or over the size limits";
    case ParseError::kBadMagic: return "bad magic: not a mamori migration message of this kind";
    case ParseError::kUnknownVersion: return "unknown format version";
    case ParseError::kMalformed: return "malformed field";
    case ParseError::kBadPublicArea: return "storage key public area unusable";
  }
  return "?";
}

}  // namespace mamori::vtpm::migration
