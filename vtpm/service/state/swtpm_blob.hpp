// swtpm's state-blob envelope, so that a TPM exported by swtpm
// (CMD_GET_STATEBLOB with PTM_STATE_FLAG_DECRYPTED) can be imported into
// vtpm-service. Layout (swtpm src/swtpm/swtpm_nvstore.c, big-endian),
// observed on swtpm 0.7.1:
//   u8 version (2) | u8 min_version | u16 hdrsize (10) | u16 flags | u32 totlen
//   then TLVs (u16 tag, u32 length, value):
//     tag 4 MIGRATION_DATA, whose value is again TLVs holding
//     tag 1 DATA: the plain libtpms blob.
// Encrypted envelopes (flags ENCRYPTED / MIGRATION_ENCRYPTED, or encrypted
// TLV tags) are refused: we do not have swtpm's keys.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::state {

inline constexpr uint8_t kSwtpmBlobVersion = 2;
inline constexpr size_t kSwtpmHeaderSize = 10;
inline constexpr uint16_t kSwtpmFlagEncrypted = 0x1;
inline constexpr uint16_t kSwtpmFlagMigrationEncrypted = 0x2;
inline constexpr uint16_t kSwtpmTagData = 1;
inline constexpr uint16_t kSwtpmTagMigrationData = 4;
inline constexpr size_t kSwtpmTlvHeaderSize = 6;

enum class SwtpmBlob : uint8_t { not_swtpm, unwrapped, malformed, encrypted };

// libtpms blobs start with a u16 version whose high byte is 0; swtpm's
// envelope starts with its version byte 2. If `in` is an envelope, *out /
// *out_len point at the libtpms blob inside it.
SwtpmBlob unwrap_swtpm_blob(const uint8_t* in, size_t len, const uint8_t** out, size_t* out_len);

}  // namespace mamori::vtpm::state
