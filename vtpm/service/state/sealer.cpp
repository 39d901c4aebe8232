#include "vtpm/service/state/sealer.hpp"

#include <mbedtls/gcm.h>

namespace mamori::vtpm::state {

namespace {

class Gcm {
 public:
  explicit Gcm(const SealingKey& key) {
    mbedtls_gcm_init(&ctx_);
    ok_ = mbedtls_gcm_setkey(&ctx_, MBEDTLS_CIPHER_ID_AES, key.data(), kSealedKeySize * 8) == 0;
  }
  ~Gcm() { mbedtls_gcm_free(&ctx_); }
  Gcm(const Gcm&) = delete;
  Gcm& operator=(const Gcm&) = delete;
  bool ok() const { return ok_; }
  mbedtls_gcm_context* get() { return &ctx_; }

 private:
  mbedtls_gcm_context ctx_;
  bool ok_ = false;
};

}  // namespace

std::vector<uint8_t> seal(const SealingKey& key, wire::BlobType type, const uint8_t* plaintext, size_t len,
                          const uint8_t (&nonce)[kSealedNonceSize]) {
  if (len > kMaxSealedPlaintext) return {};
  SealedHeader h{};
  h.type = type;
  h.length = static_cast<uint32_t>(len);
  for (size_t i = 0; i < kSealedNonceSize; ++i) h.nonce[i] = nonce[i];
  std::vector<uint8_t> file(kSealedHeaderSize + len + kSealedTagSize);
  encode_sealed_header(h, file.data(), file.size());
  Gcm gcm(key);
  if (!gcm.ok()) return {};
  uint8_t* tag = file.data() + kSealedHeaderSize + len;
  if (mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, len, nonce, kSealedNonceSize, file.data(),
                                kSealedHeaderSize, plaintext, file.data() + kSealedHeaderSize,
                                kSealedTagSize, tag) != 0) {
    return {};
  }
  return file;
}

OpenError open_sealed(const SealingKey& key, wire::BlobType expected, const uint8_t* file, size_t len,
                      std::vector<uint8_t>& out, std::string& detail) {
  SealedHeader h{};
  const SealedError se = parse_sealed_header(file, len, h);
  if (se != SealedError::none) {
    detail = sealed_error_name(se);
    return OpenError::format;
  }
  if (h.type != expected) {
    detail = "file holds another blob type";
    return OpenError::wrong_type;
  }
  std::vector<uint8_t> plain(h.length);
  Gcm gcm(key);
  if (!gcm.ok()) {
    detail = "key setup failed";
    return OpenError::authentication;
  }
  const uint8_t* tag = file + kSealedHeaderSize + h.length;
  if (mbedtls_gcm_auth_decrypt(gcm.get(), h.length, h.nonce, kSealedNonceSize, file, kSealedHeaderSize, tag,
                               kSealedTagSize, file + kSealedHeaderSize, plain.data()) != 0) {
    detail = "authentication failed (wrong key or modified file)";
    return OpenError::authentication;
  }
  out = std::move(plain);
  return OpenError::none;
}

const char* open_error_name(OpenError e) {
  switch (e) {
    case OpenError::none: return "none";
    case OpenError::format: return "malformed sealed file";
    case OpenError::wrong_type: return "wrong blob type";
    case OpenError::authentication: return "authentication failed";
  }
  return "?";
}

}  // namespace mamori::vtpm::state
