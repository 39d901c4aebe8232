#include "vtpm/service/state/blob_digest.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace mamori::vtpm::state {

bool volatile_digest_ok(const uint8_t* blob, size_t len) {
  if (blob == nullptr || len <= kSha1Size) return false;
  uint8_t digest[kSha1Size];
  SHA1(blob, len - kSha1Size, digest);
  return CRYPTO_memcmp(digest, blob + len - kSha1Size, kSha1Size) == 0;
}

}  // namespace mamori::vtpm::state
