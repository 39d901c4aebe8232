// SHA-1, SHA-256, SHA-384 and SHA-512 (FIPS 180-4 §6.1-6.5), streaming,
// for the measurements the VMM extends into a guest's vTPM (launch.hpp):
// every PCR bank libtpms allocates by default (all four; a PC Client TPM
// has SHA-1 and SHA-256 at least, TCG PC Client PTP §4.6). Pure and freestanding: the VMM has no crypto library
// (mbedTLS and OpenSSL are host-only here) and must hash with general
// registers only (no SHA-NI/SSE: guest FPU state is live on exit paths).
// Checked against FIPS 180-4 example vectors and OpenSSL in tests/unit/measure.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::measure {

// TPM 2.0 Part 2 §6.3 TPM_ALG_ID of the banks mamori can extend.
enum class HashAlg : uint16_t { Sha1 = 0x0004, Sha256 = 0x000B, Sha384 = 0x000C, Sha512 = 0x000D };
inline constexpr size_t kSha1Size = 20, kSha256Size = 32, kSha384Size = 48, kSha512Size = 64, kMaxDigestSize = 64;
constexpr size_t digest_size(HashAlg a) {
  return a == HashAlg::Sha1 ? kSha1Size : a == HashAlg::Sha256 ? kSha256Size : a == HashAlg::Sha384 ? kSha384Size : kSha512Size;
}
// True for the algorithm ids above.
bool known_hash(uint16_t alg);
const char* hash_name(HashAlg a);

class Sha1 {
 public:
  Sha1();
  void update(const uint8_t* p, size_t n);
  void final(uint8_t out[kSha1Size]);

  // One 64-byte block into the state (the padding code in digest.cpp calls it).
  void block(const uint8_t* b);

 private:
  uint32_t h_[5];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

class Sha256 {
 public:
  Sha256();
  void update(const uint8_t* p, size_t n);
  void final(uint8_t out[kSha256Size]);

  // One 64-byte block into the state (the padding code in digest.cpp calls it).
  void block(const uint8_t* b);

 private:
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t total_ = 0;
};

// SHA-512, or SHA-384 (the same with its own initial value, truncated:
// FIPS 180-4 §5.3.4, §6.5).
class Sha512 {
 public:
  explicit Sha512(bool sha384 = false);
  void update(const uint8_t* p, size_t n);
  // Writes 64 bytes (SHA-512) or 48 (SHA-384).
  void final(uint8_t* out);
  // One 128-byte block into the state.
  void block(const uint8_t* b);

 private:
  uint64_t h_[8];
  uint8_t buf_[128];
  size_t used_ = 0;
  uint64_t total_ = 0;
  bool sha384_;
};

// Any of them behind one interface, for code that loops over PCR banks.
class Hasher {
 public:
  explicit Hasher(HashAlg a);
  void update(const uint8_t* p, size_t n);
  // Writes digest_size(alg) bytes.
  void final(uint8_t* out);
  HashAlg alg() const { return alg_; }

 private:
  HashAlg alg_;
  Sha1 sha1_;
  Sha256 sha256_;
  Sha512 sha512_;
};

// One-shot: digest_size(a) bytes of H(p[0..n)) to out.
void hash(HashAlg a, const uint8_t* p, size_t n, uint8_t* out);

}  // namespace mamori::measure
