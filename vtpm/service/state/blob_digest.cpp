#include "vtpm/service/state/blob_digest.hpp"

#include <mbedtls/sha1.h>
#include <string.h>

namespace mamori::vtpm::state {

bool volatile_digest_ok(const uint8_t* blob, size_t len) {
  if (blob == nullptr || len <= kSha1Size) return false;
  uint8_t digest[kSha1Size];
  if (mbedtls_sha1_ret(blob, len - kSha1Size, digest) != 0) return false;
  return memcmp(digest, blob + len - kSha1Size, kSha1Size) == 0;
}

}  // namespace mamori::vtpm::state
