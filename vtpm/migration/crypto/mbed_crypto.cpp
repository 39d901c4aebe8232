// mbedTLS 2.28 implementation of crypto.hpp.
#include <cpuid.h>
#include <immintrin.h>
#include <mbedtls/aes.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <sys/random.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "vtpm/migration/crypto/crypto.hpp"

namespace mamori::vtpm::migration::crypto {

namespace {

constexpr size_t kSha256Size = 32;
constexpr uint32_t kRsaDefaultExponent = 65537;  // Part 2 §12.2.3.5: exponent 0 means 2^16+1
constexpr size_t kP256Bytes = 32;
constexpr size_t kAesBlock = 16;
constexpr size_t kDrbgMaxRequest = MBEDTLS_CTR_DRBG_MAX_REQUEST;

[[noreturn]] void fail(const char* what, int rc) {
  throw std::runtime_error(std::string("crypto: ") + what + " failed (mbedTLS " + std::to_string(rc) + ")");
}

void put_u32(uint8_t out[4], uint32_t v) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
}

class Hmac {
 public:
  explicit Hmac(protocol::ByteSpan key) {
    mbedtls_md_init(&ctx_);
    int rc = mbedtls_md_setup(&ctx_, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0) rc = mbedtls_md_hmac_starts(&ctx_, key.data, key.size);
    if (rc) fail("hmac setup", rc);
  }
  ~Hmac() { mbedtls_md_free(&ctx_); }
  void update(const uint8_t* p, size_t n) {
    if (n == 0) return;
    if (int rc = mbedtls_md_hmac_update(&ctx_, p, n)) fail("hmac update", rc);
  }
  void update(protocol::ByteSpan s) { update(s.data, s.size); }
  Bytes finish() {
    Bytes out(kSha256Size);
    if (int rc = mbedtls_md_hmac_finish(&ctx_, out.data())) fail("hmac finish", rc);
    return out;
  }

 private:
  mbedtls_md_context_t ctx_;
};

class Sha256 {
 public:
  Sha256() {
    mbedtls_sha256_init(&ctx_);
    if (int rc = mbedtls_sha256_starts_ret(&ctx_, 0)) fail("sha256", rc);
  }
  ~Sha256() { mbedtls_sha256_free(&ctx_); }
  void update(const uint8_t* p, size_t n) {
    if (n == 0) return;
    if (int rc = mbedtls_sha256_update_ret(&ctx_, p, n)) fail("sha256", rc);
  }
  void update(protocol::ByteSpan s) { update(s.data, s.size); }
  Bytes finish() {
    Bytes out(kSha256Size);
    if (int rc = mbedtls_sha256_finish_ret(&ctx_, out.data())) fail("sha256", rc);
    return out;
  }

 private:
  mbedtls_sha256_context ctx_;
};

const uint8_t kZero = 0;

}  // namespace

protocol::ByteSpan span(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Bytes sha256(protocol::ByteSpan a, protocol::ByteSpan b) {
  Sha256 h;
  h.update(a);
  h.update(b);
  return h.finish();
}

Bytes hmac_sha256(protocol::ByteSpan key, protocol::ByteSpan a, protocol::ByteSpan b) {
  Hmac h(key);
  h.update(a);
  h.update(b);
  return h.finish();
}

Bytes kdfa_sha256(protocol::ByteSpan key, std::string_view label, protocol::ByteSpan context_u, protocol::ByteSpan context_v, uint32_t bits) {
  Bytes out;
  size_t bytes = (bits + 7) / 8;
  uint8_t bits_be[4];
  put_u32(bits_be, bits);
  for (uint32_t counter = 1; out.size() < bytes; ++counter) {
    uint8_t ctr[4];
    put_u32(ctr, counter);
    Hmac h(key);
    h.update(ctr, 4);
    h.update(span(label));
    h.update(&kZero, 1);
    h.update(context_u);
    h.update(context_v);
    h.update(bits_be, 4);
    Bytes block = h.finish();
    out.insert(out.end(), block.begin(), block.end());
  }
  out.resize(bytes);
  // Part 1 §11.4.10.2: when bits is not a multiple of 8, the excess
  // high-order bits of the first octet are cleared.
  if (bits % 8 && !out.empty()) out[0] &= static_cast<uint8_t>((1u << (bits % 8)) - 1);
  return out;
}

Bytes kdfe_sha256(protocol::ByteSpan z, std::string_view label, protocol::ByteSpan party_u, protocol::ByteSpan party_v, uint32_t bits) {
  Bytes out;
  size_t bytes = (bits + 7) / 8;
  for (uint32_t counter = 1; out.size() < bytes; ++counter) {
    uint8_t ctr[4];
    put_u32(ctr, counter);
    Sha256 h;
    h.update(ctr, 4);
    h.update(z);
    h.update(span(label));
    h.update(&kZero, 1);
    h.update(party_u);
    h.update(party_v);
    Bytes block = h.finish();
    out.insert(out.end(), block.begin(), block.end());
  }
  out.resize(bytes);
  if (bits % 8 && !out.empty()) out[0] &= static_cast<uint8_t>((1u << (bits % 8)) - 1);
  return out;
}

namespace {
Bytes aes_cfb(protocol::ByteSpan key, protocol::ByteSpan in, int mode) {
  if (key.size != 16 && key.size != 32) throw std::runtime_error("crypto: AES-CFB key must be 128 or 256 bits");
  mbedtls_aes_context aes;
  mbedtls_aes_init(&aes);
  // CFB uses the forward cipher in both directions.
  int rc = mbedtls_aes_setkey_enc(&aes, key.data, static_cast<unsigned>(key.size * 8));
  Bytes out(in.size);
  uint8_t iv[kAesBlock] = {};
  size_t iv_off = 0;
  if (rc == 0 && in.size) rc = mbedtls_aes_crypt_cfb128(&aes, mode, in.size, &iv_off, iv, in.data, out.data());
  mbedtls_aes_free(&aes);
  if (rc) fail("aes-cfb", rc);
  return out;
}
}  // namespace

Bytes aes_cfb_encrypt(protocol::ByteSpan key, protocol::ByteSpan plaintext) { return aes_cfb(key, plaintext, MBEDTLS_AES_ENCRYPT); }
Bytes aes_cfb_decrypt(protocol::ByteSpan key, protocol::ByteSpan ciphertext) { return aes_cfb(key, ciphertext, MBEDTLS_AES_DECRYPT); }

void aes256_gcm_encrypt(protocol::ByteSpan key, protocol::ByteSpan iv, protocol::ByteSpan aad, protocol::ByteSpan plaintext, uint8_t* ciphertext,
                        uint8_t tag[16]) {
  if (key.size != 32) throw std::runtime_error("crypto: AES-256-GCM needs a 256-bit key");
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  int rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key.data, 256);
  if (rc == 0)
    rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, plaintext.size, iv.data, iv.size, aad.data, aad.size,
                                   plaintext.data, ciphertext, 16, tag);
  mbedtls_gcm_free(&g);
  if (rc) fail("aes-gcm encrypt", rc);
}

bool aes256_gcm_decrypt(protocol::ByteSpan key, protocol::ByteSpan iv, protocol::ByteSpan aad, protocol::ByteSpan ciphertext, protocol::ByteSpan tag,
                        uint8_t* plaintext) {
  if (key.size != 32 || tag.size != 16) return false;
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  int rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key.data, 256);
  if (rc == 0)
    rc = mbedtls_gcm_auth_decrypt(&g, ciphertext.size, iv.data, iv.size, aad.data, aad.size, tag.data, tag.size,
                                  ciphertext.data, plaintext);
  mbedtls_gcm_free(&g);
  if (rc) {
    if (ciphertext.size) std::memset(plaintext, 0, ciphertext.size);
    return false;
  }
  return true;
}

// ---- DRBG ---------------------------------------------------------------

struct Drbg::State {
  mbedtls_ctr_drbg_context ctr;
  Bytes tpm_pool;   // TPM entropy not yet consumed
  size_t tpm_pos = 0;
};

namespace {

bool cpu_has_rdrand() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_RDRND) != 0;
}

__attribute__((target("rdrnd"))) bool rdrand64(unsigned long long* v) {
  for (int i = 0; i < 10; ++i)  // Intel SDM vol.1 §7.3.17.1: retry a few times
    if (_rdrand64_step(v)) return true;
  return false;
}

void cpu_random(uint8_t* out, size_t n) {
  static const bool have_rdrand = cpu_has_rdrand();
  size_t i = 0;
  if (have_rdrand) {
    while (i < n) {
      unsigned long long v;
      if (!rdrand64(&v)) break;
      for (int k = 0; k < 8 && i < n; ++k, v >>= 8) out[i++] = static_cast<uint8_t>(v);
    }
  }
  while (i < n) {  // no RDRAND, or it failed: the kernel's CPU-fed pool
    ssize_t got = getrandom(out + i, n - i, 0);
    if (got <= 0) throw std::runtime_error("crypto: getrandom failed");
    i += static_cast<size_t>(got);
  }
}

int drbg_entropy(void* p, unsigned char* out, size_t n) {
  auto* s = static_cast<Drbg::State*>(p);
  cpu_random(out, n);
  // XOR in the TPM's bytes; once the pool is used up, the reseed relies on
  // the CPU source (the DRBG is seeded once per migration, so in practice
  // every entropy byte carries TPM randomness).
  for (size_t i = 0; i < n && s->tpm_pos < s->tpm_pool.size(); ++i) out[i] ^= s->tpm_pool[s->tpm_pos++];
  return 0;
}

}  // namespace

Drbg::Drbg(protocol::ByteSpan tpm_entropy) : s_(std::make_unique<State>()) {
  s_->tpm_pool.assign(tpm_entropy.data, tpm_entropy.data + tpm_entropy.size);
  mbedtls_ctr_drbg_init(&s_->ctr);
  static const char kPersonalization[] = "mamori vtpm migration";
  int rc = mbedtls_ctr_drbg_seed(&s_->ctr, drbg_entropy, s_.get(),
                                 reinterpret_cast<const unsigned char*>(kPersonalization), sizeof kPersonalization - 1);
  if (rc) fail("ctr_drbg seed", rc);
}

Drbg::~Drbg() {
  mbedtls_ctr_drbg_free(&s_->ctr);
  mbedtls_platform_zeroize(s_->tpm_pool.data(), s_->tpm_pool.size());
}

void Drbg::generate(uint8_t* out, size_t n) {
  while (n) {
    size_t chunk = n < kDrbgMaxRequest ? n : kDrbgMaxRequest;
    if (int rc = mbedtls_ctr_drbg_random(&s_->ctr, out, chunk)) fail("ctr_drbg", rc);
    out += chunk;
    n -= chunk;
  }
}

Bytes Drbg::generate(size_t n) {
  Bytes b(n);
  generate(b.data(), n);
  return b;
}

int Drbg::callback(void* self, unsigned char* out, size_t n) {
  try {
    static_cast<Drbg*>(self)->generate(out, n);
    return 0;
  } catch (...) {
    return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
  }
}

// ---- public-key operations ----------------------------------------------

Bytes rsa_oaep_sha256_encrypt(protocol::ByteSpan modulus, uint32_t exponent, protocol::ByteSpan label, protocol::ByteSpan plaintext, Drbg& rng) {
  uint32_t e = exponent ? exponent : kRsaDefaultExponent;
  uint8_t e_be[4];
  put_u32(e_be, e);
  mbedtls_rsa_context rsa;
  mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
  int rc = mbedtls_rsa_import_raw(&rsa, modulus.data, modulus.size, nullptr, 0, nullptr, 0, nullptr, 0, e_be, 4);
  if (rc == 0) rc = mbedtls_rsa_complete(&rsa);
  if (rc == 0) rc = mbedtls_rsa_check_pubkey(&rsa);
  Bytes out(modulus.size);
  if (rc == 0)
    rc = mbedtls_rsa_rsaes_oaep_encrypt(&rsa, Drbg::callback, &rng, MBEDTLS_RSA_PUBLIC, label.data, label.size,
                                        plaintext.size, plaintext.data, out.data());
  mbedtls_rsa_free(&rsa);
  if (rc) fail("rsa-oaep encrypt", rc);
  return out;
}

EcdhEphemeral ecdh_p256_ephemeral(protocol::ByteSpan peer_x, protocol::ByteSpan peer_y, Drbg& rng) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q_peer, q_e;
  mbedtls_mpi d_e, z;
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&q_peer);
  mbedtls_ecp_point_init(&q_e);
  mbedtls_mpi_init(&d_e);
  mbedtls_mpi_init(&z);
  EcdhEphemeral r{Bytes(kP256Bytes), Bytes(kP256Bytes), Bytes(kP256Bytes)};
  int rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
  if (rc == 0) rc = mbedtls_mpi_read_binary(&q_peer.X, peer_x.data, peer_x.size);
  if (rc == 0) rc = mbedtls_mpi_read_binary(&q_peer.Y, peer_y.data, peer_y.size);
  if (rc == 0) rc = mbedtls_mpi_lset(&q_peer.Z, 1);
  // SP 800-56A §5.6.2.3: full public-key validation before use.
  if (rc == 0) rc = mbedtls_ecp_check_pubkey(&grp, &q_peer);
  if (rc == 0) rc = mbedtls_ecp_gen_keypair(&grp, &d_e, &q_e, Drbg::callback, &rng);
  if (rc == 0) rc = mbedtls_ecdh_compute_shared(&grp, &z, &q_peer, &d_e, Drbg::callback, &rng);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&z, r.z.data(), kP256Bytes);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&q_e.X, r.qe_x.data(), kP256Bytes);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&q_e.Y, r.qe_y.data(), kP256Bytes);
  mbedtls_mpi_free(&z);
  mbedtls_mpi_free(&d_e);
  mbedtls_ecp_point_free(&q_e);
  mbedtls_ecp_point_free(&q_peer);
  mbedtls_ecp_group_free(&grp);
  if (rc) fail("ecdh p-256", rc);
  return r;
}

bool equal(protocol::ByteSpan a, protocol::ByteSpan b) { return protocol::bytes_equal(a, b); }

}  // namespace mamori::vtpm::migration::crypto
