// The sealed migration package (docs/migration.md "Package").
//
//   header  u32 magic "MMPK" | u16 version | u16 flags (0)
//           | u8 vm_id[16] | u8 nonce[32]
//           | TPM2B_NAME source_srk_name | TPM2B_NAME destination_srk_name
//           | u64 epoch
//           | u32 permanent_len | u32 volatile_len | u32 savestate_len
//           | u8 gcm_iv[12]
//   wrap    TPM2B_PUBLIC dup_public | TPM2B_PRIVATE dup_private
//           | TPM2B_ENCRYPTED_SECRET in_sym_seed     (the duplicated key K,
//             TPM 2.0 Part 1 §23.3 duplication, Part 3 §13.3 TPM2_Import)
//   hmac    u8 header_mac[32] = HMAC-SHA-256(KDFa(K, "MAMORI HEADER"), header||wrap)
//   body    AES-256-GCM(K, iv, aad = header||wrap||hmac,
//                       permanent || volatile || savestate)
//   tag     u8 gcm_tag[16]
//
// Everything before the ciphertext is authenticated by the GCM tag, and
// header||wrap also by header_mac so that a tampered header is reported as
// such, apart from a tampered ciphertext. The
// header alone determines the total length, so truncation and trailing
// bytes are detected before any cryptography runs.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/migration/format/limits.hpp"
#include "vtpm/migration/format/parse_error.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration {

struct PackageHeader {
  uint16_t version = kFormatVersion;
  uint8_t vm_id[kVmIdSize] = {};
  uint8_t nonce[kNonceSize] = {};
  protocol::ByteSpan source_name;
  protocol::ByteSpan destination_name;
  uint64_t epoch = 0;
  uint32_t permanent_len = 0;
  uint32_t volatile_len = 0;
  uint32_t savestate_len = 0;
  uint8_t gcm_iv[kGcmIvSize] = {};
};

struct WrappedKey {
  protocol::ByteSpan dup_public;   // TPMT_PUBLIC bytes of the sealed-data object
  protocol::ByteSpan dup_private;  // TPM2B_PRIVATE contents (outer-wrapped duplicate)
  protocol::ByteSpan in_sym_seed;  // TPM2B_ENCRYPTED_SECRET contents
};

struct PackageView {
  PackageHeader header;
  WrappedKey wrap;
  protocol::ByteSpan mac_input;    // header || wrap, what header_mac covers
  protocol::ByteSpan header_mac;
  protocol::ByteSpan aad;          // header || wrap || header_mac, the GCM additional data
  protocol::ByteSpan ciphertext;
  protocol::ByteSpan tag;
  uint64_t state_size() const {
    return uint64_t{header.permanent_len} + header.volatile_len + header.savestate_len;
  }
};

// Parses an untrusted package. On kOk every span points into `data`.
ParseError parse_package(const uint8_t* data, size_t size, PackageView& out);

inline constexpr size_t kHeaderMacSize = 32;

// Writes header||wrap (what header_mac covers). Returns its length, 0 if it
// does not fit. The caller appends header_mac, ciphertext and tag.
size_t write_package_prefix(uint8_t* out, size_t capacity, const PackageHeader& h, const WrappedKey& wrap);

}  // namespace mamori::vtpm::migration
