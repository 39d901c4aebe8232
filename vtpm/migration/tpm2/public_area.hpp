// TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4): parse and marshal the subset the
// migration needs — RSA and ECC storage keys (the destination's SRK) and
// keyedhash sealed-data objects (the wrapped migration key K).
//
// Parsing is of untrusted bytes (an offer arrives over the wire): every field
// is bounds-checked, unknown algorithms are refused.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration::tpm2 {

struct SymDef {          // TPMT_SYM_DEF_OBJECT (Part 2 §11.1.7)
  uint16_t algorithm = 0;
  uint16_t key_bits = 0;
  uint16_t mode = 0;
};

struct Scheme {          // TPMT_*_SCHEME with a hash detail (Part 2 §11.2)
  uint16_t scheme = 0;
  uint16_t hash_alg = 0;
  uint16_t count = 0;    // ECDAA only
};

struct PublicArea {
  uint16_t type = 0;
  uint16_t name_alg = 0;
  uint32_t attributes = 0;
  protocol::ByteSpan auth_policy;
  SymDef symmetric;           // RSA / ECC
  Scheme scheme;              // RSA / ECC / keyedhash scheme
  uint16_t rsa_key_bits = 0;  // RSA
  uint32_t rsa_exponent = 0;  // RSA; 0 means 65537 (Part 2 §12.2.3.5)
  uint16_t ecc_curve = 0;     // ECC
  Scheme ecc_kdf;             // ECC
  protocol::ByteSpan unique_rsa;        // RSA modulus
  protocol::ByteSpan unique_x, unique_y;  // ECC point
  protocol::ByteSpan unique_digest;     // keyedhash / symcipher

  bool is_storage_parent() const;  // restricted decrypt key with a symmetric scheme
};

enum class PublicError {
  kOk,
  kTruncated,
  kUnsupportedType,
  kUnsupportedAlgorithm,
  kTrailingBytes,
};
const char* to_string(PublicError e);

// Parses a TPMT_PUBLIC occupying exactly `size` bytes. Spans point into data.
PublicError parse_public(const uint8_t* data, size_t size, PublicArea& out);
// Parses a TPM2B_PUBLIC (size-prefixed) from a reader, returning the raw
// TPMT_PUBLIC bytes too (what a Name is computed over).
PublicError read_public_2b(protocol::ByteReader& r, PublicArea& out, protocol::ByteSpan& raw);

// Marshals a TPMT_PUBLIC. Returns false when it does not fit.
bool write_public(protocol::ByteWriter& w, const PublicArea& p);

// The standard storage root key templates of the TCG "TPM 2.0 Provisioning
// Guidance" (its storage root key templates): SHA-256 name, attributes
// fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|noDA|restricted|decrypt,
// AES-128-CFB symmetric, NULL scheme, RSA-2048 (exponent 0) or ECC NIST
// P-256 (NULL KDF), empty authPolicy and empty unique.
PublicArea srk_template_rsa2048();
PublicArea srk_template_ecc_p256();
inline constexpr uint32_t kSrkAttributes =
    0x00000002 | 0x00000010 | 0x00000020 | 0x00000040 | 0x00000400 | 0x00010000 | 0x00020000;

}  // namespace mamori::vtpm::migration::tpm2
