// The sealed state file: one libtpms blob, encrypted and authenticated with
// AES-256-GCM (NIST SP 800-38D). The whole header is the additional
// authenticated data, so type, length and nonce cannot be altered either.
//
//   0  8   magic "MAMORIVS"
//   8  u16 format version (big-endian)
//  10  u8  kind: blob type (1 permanent, 2 volatile, 3 savestate) or
//          kSealedManifest (the manifest binding the files, manifest.hpp)
//  11  u8  reserved, 0
//  12  u32 plaintext length (big-endian)
//  16  12  nonce (96 bits, random per write: SP 800-38D §8.2.2)
//  28  ... ciphertext (plaintext length bytes)
//  end 16  GCM tag
#pragma once
#include <stdint.h>
#include <stddef.h>

#include "vtpm/protocol/partition_frame.hpp"

namespace mamori::vtpm::state {

inline constexpr uint8_t kSealedMagic[8] = {'M', 'A', 'M', 'O', 'R', 'I', 'V', 'S'};
inline constexpr uint16_t kSealedVersion = 1;
inline constexpr size_t kSealedNonceSize = 12;
inline constexpr size_t kSealedTagSize = 16;
inline constexpr size_t kSealedHeaderSize = 28;
inline constexpr size_t kSealedKeySize = 32;  // AES-256
inline constexpr uint32_t kMaxSealedPlaintext = protocol::kMaxFramePayload;

// The kind byte of the manifest file.
inline constexpr uint8_t kSealedManifest = 0x4D;  // 'M'
constexpr bool is_sealed_kind(uint8_t k) { return protocol::is_blob_type(k) || k == kSealedManifest; }
constexpr uint8_t sealed_kind(protocol::BlobType t) { return static_cast<uint8_t>(t); }

struct SealedHeader {
  uint8_t kind;
  uint32_t length;
  uint8_t nonce[kSealedNonceSize];
};

enum class SealedError : uint8_t { none, truncated, bad_magic, bad_version, bad_reserved, bad_type, bad_length };

// Checks the header and that the file is exactly header + length + tag long.
SealedError parse_sealed_header(const uint8_t* file, size_t file_len, SealedHeader& out);
// Writes kSealedHeaderSize bytes; returns 0 if cap is too small.
size_t encode_sealed_header(const SealedHeader& h, uint8_t* out, size_t cap);
const char* sealed_error_name(SealedError e);

}  // namespace mamori::vtpm::state
