// The cryptographic primitives the migration needs, behind one small
// interface (implemented with mbedTLS 2.28 in mbed_crypto.cpp). All hashes
// are SHA-256: the SRK templates and the wrapped object use SHA-256 names.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration::crypto {

using Bytes = std::vector<uint8_t>;

inline protocol::ByteSpan span(const Bytes& b) { return {b.data(), b.size()}; }
protocol::ByteSpan span(std::string_view s);

Bytes sha256(protocol::ByteSpan a, protocol::ByteSpan b = {});
Bytes hmac_sha256(protocol::ByteSpan key, protocol::ByteSpan a, protocol::ByteSpan b = {});

// KDFa with HMAC-SHA-256, TPM 2.0 Part 1 §11.4.10.2 (SP 800-108 counter
// mode): HMAC(key, [i]32 || label || 0x00 || contextU || contextV || [bits]32).
// `label` is given without its terminating NUL; the NUL is added here.
Bytes kdfa_sha256(protocol::ByteSpan key, std::string_view label, protocol::ByteSpan context_u, protocol::ByteSpan context_v, uint32_t bits);

// KDFe with SHA-256, TPM 2.0 Part 1 §11.4.10.3 (SP 800-56A concatenation
// KDF): H([i]32 || Z || label || 0x00 || partyUInfo || partyVInfo).
Bytes kdfe_sha256(protocol::ByteSpan z, std::string_view label, protocol::ByteSpan party_u, protocol::ByteSpan party_v, uint32_t bits);

// AES-CFB (128-bit feedback) with a zero IV, as the TPM uses for the outer
// wrapper of a duplication blob (Part 1 §23.3.2.3, "IV of zero").
Bytes aes_cfb_encrypt(protocol::ByteSpan key, protocol::ByteSpan plaintext);
Bytes aes_cfb_decrypt(protocol::ByteSpan key, protocol::ByteSpan ciphertext);

// AES-256-GCM with a 96-bit IV and a 128-bit tag.
void aes256_gcm_encrypt(protocol::ByteSpan key, protocol::ByteSpan iv, protocol::ByteSpan aad, protocol::ByteSpan plaintext, uint8_t* ciphertext,
                        uint8_t tag[16]);
// Returns false when the tag does not verify (output is then zeroed).
bool aes256_gcm_decrypt(protocol::ByteSpan key, protocol::ByteSpan iv, protocol::ByteSpan aad, protocol::ByteSpan ciphertext, protocol::ByteSpan tag,
                        uint8_t* plaintext);

// A CTR-DRBG (SP 800-90A, AES-256) whose entropy input is the XOR of the
// physical TPM's RNG output (TPM2_GetRandom, given by the caller) and the
// CPU's RNG (RDRAND where present, else getrandom(2)): the DRBG is no weaker
// than the stronger of the two sources.
class Drbg {
 public:
  explicit Drbg(protocol::ByteSpan tpm_entropy);
  ~Drbg();
  Drbg(const Drbg&) = delete;
  Drbg& operator=(const Drbg&) = delete;
  void generate(uint8_t* out, size_t n);
  Bytes generate(size_t n);
  // For mbedTLS callbacks: int f_rng(void*, unsigned char*, size_t)
  static int callback(void* self, unsigned char* out, size_t n);

  struct State;  // mbedTLS context and the TPM entropy pool (mbed_crypto.cpp)

 private:
  std::unique_ptr<State> s_;
};

// RSA-OAEP with SHA-256 under public key (n, e); e == 0 means 65537
// (Part 2 §12.2.3.5). `label` is used verbatim: for TPM secret sharing
// callers pass the label with its terminating NUL (Part 1 Annex B.10).
Bytes rsa_oaep_sha256_encrypt(protocol::ByteSpan modulus, uint32_t exponent, protocol::ByteSpan label, protocol::ByteSpan plaintext, Drbg& rng);

// One-pass ECDH on NIST P-256 (Part 1 Annex C.6, secret sharing): a fresh ephemeral key Qe,
// Z = x-coordinate of d_e * Q_peer. Throws if the peer point is not on the curve.
struct EcdhEphemeral {
  Bytes z;        // 32 bytes
  Bytes qe_x;     // 32 bytes
  Bytes qe_y;
};
EcdhEphemeral ecdh_p256_ephemeral(protocol::ByteSpan peer_x, protocol::ByteSpan peer_y, Drbg& rng);

// Constant-time comparison.
bool equal(protocol::ByteSpan a, protocol::ByteSpan b);

}  // namespace mamori::vtpm::migration::crypto
