// TPM 2.0 command/response header helpers shared by the TIS and CRB models.
//
// TPM 2.0 Library Part 1, section 18 ("Command/Response Structure"): every
// command and response starts with a 10-byte header of big-endian fields
//   tag (TPM_ST, 2 bytes) | size (UINT32, whole message incl. header) |
//   commandCode / responseCode (UINT32).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm {

inline constexpr size_t kTpmHeaderSize = 10;
// Bytes of the header after which the size field is known (tag + size).
inline constexpr size_t kTpmSizeKnownAfter = 6;
inline constexpr size_t kTpmSizeFieldOffset = 2;
inline constexpr size_t kTpmCodeFieldOffset = 6;

// TPM 2.0 Part 2, 6.9 TPM_ST.
inline constexpr uint16_t kTpmStNoSessions = 0x8001;
inline constexpr uint16_t kTpmStSessions = 0x8002;

// TPM 2.0 Part 2, 6.6 TPM_RC (format-zero codes, RC_VER1 = 0x100).
inline constexpr uint32_t kTpmRcSuccess = 0x000;
inline constexpr uint32_t kTpmRcFailure = 0x101;
inline constexpr uint32_t kTpmRcCommandSize = 0x142;
inline constexpr uint32_t kTpmRcCanceled = 0x909;  // RC_WARN + 0x009

constexpr uint16_t load_be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
constexpr uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
constexpr void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
constexpr void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

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
constexpr uint32_t header_size_field(const uint8_t* bytes) {
  return load_be32(bytes + kTpmSizeFieldOffset);
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

}  // namespace mamori::vtpm
