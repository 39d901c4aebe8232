// libtpms closes its volatile-state blob with a SHA-1 digest of every byte
// before it (observed on libtpms 0.9: blob = body | SHA-1(body)), but its
// unmarshalling runs before that digest is compared: the fuzz target
// tests/fuzz/service found TPMLIB_ValidateState reading out of bounds on a
// corrupted volatile blob. We therefore verify the digest *before* libtpms
// sees the blob. (SHA-1 here is an integrity checksum, not a security
// boundary: blobs from outside are authenticated by the sealing / migration
// layers.)
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::state {

inline constexpr size_t kSha1Size = 20;

// True if len > 20 and the last 20 bytes are SHA-1 of the rest.
bool volatile_digest_ok(const uint8_t* blob, size_t len);

}  // namespace mamori::vtpm::state
