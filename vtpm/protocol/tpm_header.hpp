// The TPM 2.0 command/response header: the one parser and error-response
// writer, used by the TIS and CRB models, the VMM's engine link and the
// service's socket front-ends.
//
// TPM 2.0 Library Part 1, section 18 ("Command/Response Structure"): every
// command and response starts with a 10-byte header of big-endian fields
//   tag (TPM_ST, 2 bytes) | size (UINT32, whole message incl. header) |
//   commandCode / responseCode (UINT32).
// Byte streams are framed by it: swtpm trusts one read() to hold one
// command; the service instead reads the 10-byte header and then exactly
// commandSize - 10 more bytes, so a command split across TCP segments, or two
// commands in one segment, still frame correctly, and a lying size is
// rejected before anything reaches libtpms.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::protocol {

inline constexpr size_t kTpmHeaderSize = 10;
// Bytes of the header after which the size field is known (tag + size).
inline constexpr size_t kTpmSizeKnownAfter = 6;
inline constexpr size_t kTpmSizeFieldOffset = 2;
inline constexpr size_t kTpmCodeFieldOffset = 6;

// TPM 2.0 Part 2, 6.9 TPM_ST.
inline constexpr uint16_t kTpmStNoSessions = 0x8001;
inline constexpr uint16_t kTpmStSessions = 0x8002;

// TPM 2.0 Part 2, 6.6 TPM_RC (format-zero codes, RC_VER1 = 0x100): the codes
// generated before (or instead of) the engine.
inline constexpr uint32_t kTpmRcSuccess = 0x000;
inline constexpr uint32_t kTpmRcFailure = 0x101;      // RC_VER1 + 0x001
inline constexpr uint32_t kTpmRcCommandSize = 0x142;  // RC_VER1 + 0x042
inline constexpr uint32_t kTpmRcCanceled = 0x909;     // RC_WARN + 0x009

struct TpmHeader {
  uint16_t tag;
  uint32_t size;
  uint32_t code;  // commandCode or responseCode
};

// Parses a header from the first `len` bytes; false when fewer than
// kTpmHeaderSize bytes are present. It does not judge the values: callers
// decide what a size below the header or above their buffer means.
constexpr bool parse_header(const uint8_t* bytes, size_t len, TpmHeader& out) {
  if (bytes == nullptr || len < kTpmHeaderSize) return false;
  out.tag = load_be16(bytes);
  out.size = load_be32(bytes + kTpmSizeFieldOffset);
  out.code = load_be32(bytes + kTpmCodeFieldOffset);
  return true;
}

// Size field of a message whose first kTpmSizeKnownAfter bytes are present.
constexpr uint32_t header_size_field(const uint8_t* bytes) { return load_be32(bytes + kTpmSizeFieldOffset); }

enum class HeaderStatus : uint8_t {
  ok,
  truncated,          // fewer than kTpmHeaderSize bytes available
  size_below_header,  // commandSize < 10: cannot even hold its own header
  size_above_max,     // commandSize > the buffer the TPM accepts
};

// Parses and judges a command header for framing: max_size is the largest
// command the engine accepts (TPMLIB_SetBufferSize's current value).
constexpr HeaderStatus parse_tpm_header(const uint8_t* buf, size_t len, uint32_t max_size, TpmHeader& out) {
  if (!parse_header(buf, len, out)) return HeaderStatus::truncated;
  if (out.size < kTpmHeaderSize) return HeaderStatus::size_below_header;
  if (out.size > max_size) return HeaderStatus::size_above_max;
  return HeaderStatus::ok;
}

constexpr const char* header_status_name(HeaderStatus s) {
  switch (s) {
    case HeaderStatus::ok: return "ok";
    case HeaderStatus::truncated: return "truncated header";
    case HeaderStatus::size_below_header: return "commandSize smaller than the header";
    case HeaderStatus::size_above_max: return "commandSize larger than the TPM buffer";
  }
  return "?";
}

// Writes a header-only response (TPM_ST_NO_SESSIONS, size 10, `rc`), the
// shape of every TPM 2.0 error response (Part 1, 18.4). Returns bytes written,
// 0 when `cap` is too small.
constexpr size_t write_error_response(uint8_t* out, size_t cap, uint32_t rc) {
  if (out == nullptr || cap < kTpmHeaderSize) return 0;
  store_be16(out, kTpmStNoSessions);
  store_be32(out + kTpmSizeFieldOffset, static_cast<uint32_t>(kTpmHeaderSize));
  store_be32(out + kTpmCodeFieldOffset, rc);
  return kTpmHeaderSize;
}

}  // namespace mamori::vtpm::protocol
