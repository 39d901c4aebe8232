#include "digest.hpp"

namespace mamori::measure {
namespace {
constexpr uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }
constexpr uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
constexpr uint32_t kK256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// FIPS 180-4 §4.2.3: the first 64 bits of the fractional parts of the cube
// roots of the first 80 primes.
constexpr uint64_t kK512[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
    0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
    0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
    0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
    0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
    0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
    0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
    0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
    0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
    0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817};
constexpr uint64_t rotr64(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }
uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }

// Shared Merkle-Damgard framing (FIPS 180-4 §5.1.1/§5.1.2 padding: 0x80,
// zeros, the bit length as a big-endian number of 64 bits (block B = 64)
// or 128 bits (B = 128; the upper 64 are zero here)).
template <size_t B, class H>
void md_update(H& h, uint8_t* buf, size_t& used, uint64_t& total, const uint8_t* p, size_t n) {
  total += n;
  if (used) {
    while (n && used < B) {
      buf[used++] = *p++;
      --n;
    }
    if (used < B) return;
    h.block(buf);
    used = 0;
  }
  for (; n >= B; p += B, n -= B) h.block(p);
  for (size_t i = 0; i < n; ++i) buf[i] = p[i];
  used = n;
}

template <size_t B, class H>
void md_pad(H& h, uint8_t* buf, size_t used, uint64_t total) {
  const uint64_t bits = total * 8;
  constexpr size_t kLengthField = B == 128 ? 16 : 8;
  buf[used++] = 0x80;
  if (used > B - kLengthField) {
    while (used < B) buf[used++] = 0;
    h.block(buf);
    used = 0;
  }
  while (used < B - 8) buf[used++] = 0;
  for (int i = 0; i < 8; ++i) buf[B - 8 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  h.block(buf);
}
}  // namespace

const char* hash_name(HashAlg a) {
  switch (a) {
    case HashAlg::Sha1: return "sha1";
    case HashAlg::Sha256: return "sha256";
    case HashAlg::Sha384: return "sha384";
    case HashAlg::Sha512: return "sha512";
  }
  return "?";
}

bool known_hash(uint16_t alg) {
  switch (static_cast<HashAlg>(alg)) {
    case HashAlg::Sha1:
    case HashAlg::Sha256:
    case HashAlg::Sha384:
    case HashAlg::Sha512: return true;
  }
  return false;
}

// FIPS 180-4 §5.3.1 initial hash value.
Sha1::Sha1() : h_{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, buf_{} {}

// FIPS 180-4 §6.1.2.
void Sha1::block(const uint8_t* b) {
  uint32_t w[80];
  for (int t = 0; t < 16; ++t) w[t] = be32(b + 4 * t);
  for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (int t = 0; t < 80; ++t) {
    uint32_t f, k;
    if (t < 20) f = (bb & c) | (~bb & d), k = 0x5A827999;
    else if (t < 40) f = bb ^ c ^ d, k = 0x6ED9EBA1;
    else if (t < 60) f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
    else f = bb ^ c ^ d, k = 0xCA62C1D6;
    const uint32_t tmp = rotl(a, 5) + f + e + k + w[t];
    e = d, d = c, c = rotl(bb, 30), bb = a, a = tmp;
  }
  h_[0] += a, h_[1] += bb, h_[2] += c, h_[3] += d, h_[4] += e;
}

void Sha1::update(const uint8_t* p, size_t n) { md_update<64>(*this, buf_, used_, total_, p, n); }

void Sha1::final(uint8_t out[kSha1Size]) {
  md_pad<64>(*this, buf_, used_, total_);
  for (int i = 0; i < 5; ++i) put_be32(out + 4 * i, h_[i]);
}

// FIPS 180-4 §5.3.3 initial hash value.
Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}, buf_{} {}

// FIPS 180-4 §6.2.2.
void Sha256::block(const uint8_t* b) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) w[t] = be32(b + 4 * t);
  for (int t = 16; t < 64; ++t) {
    const uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int t = 0; t < 64; ++t) {
    const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK256[t] + w[t];
    const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
    h = g, g = f, f = e, e = d + t1, d = c, c = bb, bb = a, a = t1 + t2;
  }
  h_[0] += a, h_[1] += bb, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
}

void Sha256::update(const uint8_t* p, size_t n) { md_update<64>(*this, buf_, used_, total_, p, n); }

void Sha256::final(uint8_t out[kSha256Size]) {
  md_pad<64>(*this, buf_, used_, total_);
  for (int i = 0; i < 8; ++i) put_be32(out + 4 * i, h_[i]);
}

// FIPS 180-4 §5.3.4 (SHA-384) and §5.3.5 (SHA-512) initial hash values.
Sha512::Sha512(bool sha384) : buf_{}, sha384_(sha384) {
  constexpr uint64_t k384[8] = {0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
                                0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4};
  constexpr uint64_t k512[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
                                0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};
  for (int i = 0; i < 8; ++i) h_[i] = sha384 ? k384[i] : k512[i];
}

// FIPS 180-4 §6.4.2.
void Sha512::block(const uint8_t* b) {
  uint64_t w[80];
  for (int t = 0; t < 16; ++t) w[t] = be64(b + 8 * t);
  for (int t = 16; t < 80; ++t) {
    const uint64_t s0 = rotr64(w[t - 15], 1) ^ rotr64(w[t - 15], 8) ^ (w[t - 15] >> 7);
    const uint64_t s1 = rotr64(w[t - 2], 19) ^ rotr64(w[t - 2], 61) ^ (w[t - 2] >> 6);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint64_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int t = 0; t < 80; ++t) {
    const uint64_t t1 = h + (rotr64(e, 14) ^ rotr64(e, 18) ^ rotr64(e, 41)) + ((e & f) ^ (~e & g)) + kK512[t] + w[t];
    const uint64_t t2 = (rotr64(a, 28) ^ rotr64(a, 34) ^ rotr64(a, 39)) + ((a & bb) ^ (a & c) ^ (bb & c));
    h = g, g = f, f = e, e = d + t1, d = c, c = bb, bb = a, a = t1 + t2;
  }
  h_[0] += a, h_[1] += bb, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
}

void Sha512::update(const uint8_t* p, size_t n) { md_update<128>(*this, buf_, used_, total_, p, n); }

void Sha512::final(uint8_t* out) {
  md_pad<128>(*this, buf_, used_, total_);
  for (int i = 0; i < (sha384_ ? 6 : 8); ++i) {
    put_be32(out + 8 * i, static_cast<uint32_t>(h_[i] >> 32));
    put_be32(out + 8 * i + 4, static_cast<uint32_t>(h_[i]));
  }
}

Hasher::Hasher(HashAlg a) : alg_(a), sha512_(a == HashAlg::Sha384) {}
void Hasher::update(const uint8_t* p, size_t n) {
  if (alg_ == HashAlg::Sha1) sha1_.update(p, n);
  else if (alg_ == HashAlg::Sha256) sha256_.update(p, n);
  else sha512_.update(p, n);
}
void Hasher::final(uint8_t* out) {
  if (alg_ == HashAlg::Sha1) sha1_.final(out);
  else if (alg_ == HashAlg::Sha256) sha256_.final(out);
  else sha512_.final(out);
}

void hash(HashAlg a, const uint8_t* p, size_t n, uint8_t* out) {
  Hasher h(a);
  h.update(p, n);
  h.final(out);
}

}  // namespace mamori::measure
