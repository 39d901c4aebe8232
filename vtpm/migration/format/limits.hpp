// Sizes and identifiers shared by the migration formats (offer, package, ack).
// See docs/migration.md for the byte layouts.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::migration {

inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kNonceSize = 32;     // destination's fresh nonce
inline constexpr size_t kVmIdSize = 16;      // a UUID
inline constexpr size_t kGcmIvSize = 12;     // NIST SP 800-38D §8.2 recommended IV length
inline constexpr size_t kGcmTagSize = 16;
inline constexpr size_t kMigrationKeySize = 32;  // AES-256 key K
inline constexpr size_t kAckMacSize = 32;        // HMAC-SHA-256

// A libtpms permanent-state blob is tens of KiB; these bounds refuse
// absurd sizes before any allocation or crypto happens.
inline constexpr uint32_t kMaxBlobSize = 1u << 20;
inline constexpr size_t kMaxPackageSize = 3 * static_cast<size_t>(kMaxBlobSize) + 8192;

// Magic numbers: ASCII "MMOF" (offer), "MMPK" (package), "MMAK" (ack).
inline constexpr uint32_t kOfferMagic = 0x4D4D4F46;
inline constexpr uint32_t kPackageMagic = 0x4D4D504B;
inline constexpr uint32_t kAckMagic = 0x4D4D414B;

}  // namespace mamori::vtpm::migration
