// swtpm's control channel, as defined by swtpm's include/swtpm/tpm_ioctl.h
// ("Commands used by the non-CUSE TPMs": a u32 big-endian command code, then
// the 'req' part of the command's union; the answer is the 'resp' part, all
// integers big-endian). Only the wire facts live here: the service's server
// applies them, the migration tool's control client sends them, and the
// partition frame reuses the blob types.
#pragma once
#include <stdint.h>
#include <stddef.h>

namespace mamori::vtpm::protocol::swtpm {

enum Cmd : uint32_t {
  kGetCapability = 0x01,
  kInit = 0x02,
  kShutdown = 0x03,
  kGetTpmEstablished = 0x04,
  kSetLocality = 0x05,
  kHashStart = 0x06,
  kHashData = 0x07,
  kHashEnd = 0x08,
  kCancelTpmCmd = 0x09,
  kStoreVolatile = 0x0a,
  kResetTpmEstablished = 0x0b,
  kGetStateBlob = 0x0c,
  kSetStateBlob = 0x0d,
  kStop = 0x0e,
  kGetConfig = 0x0f,
  kSetDataFd = 0x10,
  kSetBufferSize = 0x11,
  kGetInfo = 0x12,
};

// PTM_CAP_* bits answered by CMD_GET_CAPABILITY (a bare u64, no result code).
enum Cap : uint64_t {
  kCapInit = 1u << 0,
  kCapShutdown = 1u << 1,
  kCapGetTpmEstablished = 1u << 2,
  kCapSetLocality = 1u << 3,
  kCapHashing = 1u << 4,
  kCapCancelTpmCmd = 1u << 5,
  kCapStoreVolatile = 1u << 6,
  kCapResetTpmEstablished = 1u << 7,
  kCapGetStateBlob = 1u << 8,
  kCapSetStateBlob = 1u << 9,
  kCapStop = 1u << 10,
  kCapGetConfig = 1u << 11,
  kCapSetDataFd = 1u << 12,
  kCapSetBufferSize = 1u << 13,
  kCapGetInfo = 1u << 14,
};

// Fixed request sizes after the command code (tpm_ioctl.h 'req' structs).
inline constexpr size_t kInitReqSize = 4;          // u32 init_flags
inline constexpr size_t kLocalityReqSize = 1;      // u8 loc
inline constexpr size_t kResetEstReqSize = 1;      // u8 loc
// ptm_loc and ptm_reset_est are unions with a u32 response, so some clients
// (QEMU's tpm_emulator) send sizeof(struct) = 4 bytes: the u8 and 3 bytes
// of padding; others (tcti-swtpm) send the u8 alone. swtpm accepts both
// because it takes whatever one read() returns; we consume the padding
// explicitly when it has arrived with the request.
inline constexpr size_t kLocalityPaddedSize = 4;
inline constexpr size_t kHashDataHdrSize = 4;      // u32 length, then data
inline constexpr size_t kHashDataMax = 4096;       // ptm_hdata data[4096]
inline constexpr size_t kGetStateReqSize = 12;     // u32 state_flags, type, offset
inline constexpr size_t kSetStateHdrSize = 12;     // u32 state_flags, type, length, then data
inline constexpr size_t kSetBufferSizeReqSize = 4; // u32 buffersize
inline constexpr size_t kGetInfoReqSize = 16;      // u64 flags, u32 offset, u32 pad
inline constexpr size_t kGetStateRespHdrSize = 16; // result, state_flags, totlength, length
inline constexpr size_t kGetInfoSize = 3 * 1024;   // PTM_GETINFO_SIZE
inline constexpr size_t kResultSize = 4;           // ptm_res: the u32 result of most answers

inline constexpr uint32_t kInitFlagDeleteVolatile = 1;   // PTM_INIT_FLAG_DELETE_VOLATILE
inline constexpr uint32_t kStateFlagDecrypted = 1;       // PTM_STATE_FLAG_DECRYPTED (request)
inline constexpr uint32_t kStateFlagEncrypted = 2;       // PTM_STATE_FLAG_ENCRYPTED
inline constexpr uint32_t kConfigFlagFileKey = 1;        // PTM_CONFIG_FLAG_FILE_KEY
inline constexpr uint32_t kConfigFlagMigrationKey = 2;   // PTM_CONFIG_FLAG_MIGRATION_KEY

// The state blobs, numbered as PTM_BLOB_TYPE_* (a u32 in the control
// protocol, a u8 in the partition frame's arg).
enum class BlobType : uint8_t { permanent = 1, volatile_state = 2, savestate = 3 };
constexpr bool is_blob_type(uint32_t v) { return v >= 1 && v <= 3; }
constexpr const char* blob_type_name(BlobType t) {
  switch (t) {
    case BlobType::permanent: return "permanent";
    case BlobType::volatile_state: return "volatile";
    case BlobType::savestate: return "savestate";
  }
  return "?";
}

// swtpm answers with libtpms' TPM 1.2-style TPM_RESULT codes (tpm_error.h).
inline constexpr uint32_t kResSuccess = 0;
inline constexpr uint32_t kResBadParameter = 3;
inline constexpr uint32_t kResFail = 9;
inline constexpr uint32_t kResBadOrdinal = 10;   // also "TPM not running" / "running"
inline constexpr uint32_t kResSize = 23;
inline constexpr uint32_t kResIoError = 31;
inline constexpr uint32_t kResBadLocality = 61;

// Size of the fixed request after the command code; variable tails
// (HASH_DATA, SET_STATEBLOB) are read separately. Returns false for an
// unknown command.
bool fixed_request_size(uint32_t cmd, size_t& out);

}  // namespace mamori::vtpm::protocol::swtpm
