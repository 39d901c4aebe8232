// A TPM 2.0 duplication blob built in software: the migration key K as a
// sealed-data (keyedhash) object, outer-wrapped to a new parent — the
// destination TPM's storage key — so that only TPM2_Import under that key
// can recover it.
//
// TPM 2.0 Part 1 §23.3 (Duplication) and §22 (Protected Storage):
//   seed         fresh, digest-size of the parent's nameAlg, shared with the
//                parent by RSA-OAEP (label "DUPLICATE") or ECDH + KDFe
//   symKey     = KDFa(nameAlg, seed, "STORAGE", name, "", parent sym bits)
//   hmacKey    = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits)
//   encSens    = AES-CFB(symKey, IV = 0, TPM2B_SENSITIVE)   (no inner wrapper)
//   outerHMAC  = HMAC(hmacKey, encSens || name)
//   duplicate  = TPM2B_DIGEST(outerHMAC) || encSens
// The object has fixedTPM and fixedParent clear (TPM2_Import requires it,
// Part 3 §13.3.1) and its unique field binds the sensitive data:
// unique = H_nameAlg(seedValue || data) (Part 2 TPMU_PUBLIC_ID for
// keyedhash; TPM2_Load recomputes and compares it).
#pragma once
#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/tpm2/public_area.hpp"

namespace mamori::vtpm::migration::crypto {

using crypto::Bytes;

struct DuplicationBlob {
  Bytes object_public;  // TPMT_PUBLIC of the sealed-data object
  Bytes name;           // its Name: nameAlg || SHA-256(object_public)
  Bytes duplicate;      // TPM2B_PRIVATE contents
  Bytes in_sym_seed;    // TPM2B_ENCRYPTED_SECRET contents
};

// Wraps `secret` (1..128 bytes) to `parent`, which must be an RSA-2048 or
// ECC P-256 storage parent with SHA-256 nameAlg and AES-CFB symmetric.
DuplicationBlob wrap_to_parent(const tpm2::PublicArea& parent, protocol::ByteSpan secret, crypto::Drbg& rng);

// Name of an object, Part 1 §16: nameAlg || H_nameAlg(TPMT_PUBLIC).
Bytes object_name(protocol::ByteSpan tpmt_public);

// The symmetric half, separated so that it can be checked in software:
// given the seed, produce / verify-and-open the outer-wrapped duplicate.
Bytes outer_wrap(protocol::ByteSpan seed, uint16_t parent_sym_bits, protocol::ByteSpan name, protocol::ByteSpan tpm2b_sensitive);
// Returns false on an integrity failure (what the TPM reports as
// TPM_RC_INTEGRITY); on success `tpm2b_sensitive` holds the plaintext.
bool outer_unwrap(protocol::ByteSpan seed, uint16_t parent_sym_bits, protocol::ByteSpan name, protocol::ByteSpan duplicate,
                  Bytes& tpm2b_sensitive);

// The sealed-data object's public area for a given sensitive value.
Bytes sealed_object_public(protocol::ByteSpan seed_value, protocol::ByteSpan data);
// TPM2B_SENSITIVE (size || TPMT_SENSITIVE) of a keyedhash object, Part 2 §12.3.
Bytes keyedhash_sensitive_2b(protocol::ByteSpan auth_value, protocol::ByteSpan seed_value, protocol::ByteSpan data);

inline constexpr char kDuplicateLabel[] = "DUPLICATE";  // Part 1 §23.3, secret-sharing label
inline constexpr char kStorageLabel[] = "STORAGE";      // Part 1 §22.4 symmetric protection key
inline constexpr char kIntegrityLabel[] = "INTEGRITY";  // Part 1 §22.5 integrity key

}  // namespace mamori::vtpm::migration::crypto
