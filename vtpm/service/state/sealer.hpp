// AES-256-GCM sealing of state blobs and the manifest (OpenSSL libcrypto,
// the one crypto library of vtpm-service), in the file format of
// sealed_format.hpp.
#pragma once
#include <stdint.h>
#include <stddef.h>

#include <array>
#include <string>
#include <vector>

#include "vtpm/service/state/sealed_format.hpp"

namespace mamori::vtpm::state {

using SealingKey = std::array<uint8_t, kSealedKeySize>;

enum class OpenError : uint8_t { none, format, wrong_type, authentication };

// Seals plaintext of `kind` (sealed_format.hpp) under key with the given
// nonce (callers draw it fresh).
std::vector<uint8_t> seal(const SealingKey& key, uint8_t kind, const uint8_t* plaintext, size_t len,
                          const uint8_t (&nonce)[kSealedNonceSize]);
inline std::vector<uint8_t> seal(const SealingKey& key, protocol::BlobType type, const uint8_t* plaintext,
                                 size_t len, const uint8_t (&nonce)[kSealedNonceSize]) {
  return seal(key, sealed_kind(type), plaintext, len, nonce);
}
// Opens a sealed file; `out` is only written on success. A wrong key and a
// modified file are indistinguishable by design: both are `authentication`.
OpenError open_sealed(const SealingKey& key, uint8_t expected, const uint8_t* file, size_t len,
                      std::vector<uint8_t>& out, std::string& detail);
inline OpenError open_sealed(const SealingKey& key, protocol::BlobType expected, const uint8_t* file, size_t len,
                             std::vector<uint8_t>& out, std::string& detail) {
  return open_sealed(key, sealed_kind(expected), file, len, out, detail);
}
const char* open_error_name(OpenError e);

}  // namespace mamori::vtpm::state
