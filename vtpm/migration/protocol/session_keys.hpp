// Keys derived from the migration key K (one K per migration). Separate
// keys per purpose, derived with KDFa (TPM 2.0 Part 1 §11.4.10.2) bound to
// the destination's nonce, so that no two uses share a key.
#pragma once
#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/format/limits.hpp"

namespace mamori::vtpm::migration {

struct SessionKeys {
  crypto::Bytes state_key;   // AES-256-GCM over the vTPM state
  crypto::Bytes header_key;  // HMAC-SHA-256 over header || wrap
  crypto::Bytes ack_key;     // HMAC-SHA-256 over the acknowledgement
};

inline constexpr uint32_t kDerivedKeyBits = 256;

inline SessionKeys derive_session_keys(protocol::ByteSpan k, protocol::ByteSpan nonce, protocol::ByteSpan vm_id) {
  return {crypto::kdfa_sha256(k, "MAMORI STATE", nonce, vm_id, kDerivedKeyBits),
          crypto::kdfa_sha256(k, "MAMORI HEADER", nonce, vm_id, kDerivedKeyBits),
          crypto::kdfa_sha256(k, "MAMORI ACK", nonce, vm_id, kDerivedKeyBits)};
}

}  // namespace mamori::vtpm::migration
