// Structural checks on a libtpms TPM 2.0 state blob *before* libtpms
// unmarshals it. libtpms has had out-of-bounds bugs in state unmarshalling,
// so an imported blob (migration, SET_STATEBLOB, partition set_state) must
// first look like what libtpms writes; TPMLIB_ValidateState then does the
// full unmarshal. Our own sealed files are authenticated by AES-GCM instead.
//
// Layout written by libtpms 0.9 (src/tpm2/NVMarshal.c), integers big-endian:
//   permanent ("permall"):  u16 version | u32 PERSISTENT_ALL_MAGIC | ... | u32 PERSISTENT_ALL_MAGIC
//   volatile ("volatilestate"): u16 version | u32 VOLATILE_STATE_MAGIC | ... |
//                               u32 VOLATILE_STATE_MAGIC | 20-byte digest
// libtpms' TPM 2.0 never writes a savestate blob (TPM2_Shutdown(STATE) goes
// into the permanent state), so a non-empty savestate blob is refused.
#pragma once
#include <stdint.h>
#include <stddef.h>

#include "vtpm/protocol/partition_frame.hpp"

namespace mamori::vtpm::state {

inline constexpr uint32_t kPersistentAllMagic = 0xab364723;
inline constexpr uint32_t kVolatileStateMagic = 0x45637889;
inline constexpr size_t kNvHeaderSize = 6;            // u16 version + u32 magic
inline constexpr size_t kVolatileDigestSize = 20;     // trailer digest after the closing magic
inline constexpr uint16_t kMaxPermanentVersion = 16;  // far above libtpms 0.9's 3; rejects garbage
inline constexpr uint16_t kMaxVolatileVersion = 16;
inline constexpr size_t kMaxStateBlob = protocol::kMaxFramePayload;

enum class BlobCheck : uint8_t {
  ok,
  empty,
  too_short,
  too_large,
  bad_magic,
  bad_version,
  bad_trailer,
  unsupported_type,
};

BlobCheck check_state_blob(protocol::BlobType type, const uint8_t* data, size_t len);
const char* blob_check_name(BlobCheck c);

}  // namespace mamori::vtpm::state
