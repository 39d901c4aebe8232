#include "vtpm/service/state/sealer.hpp"

#include <openssl/evp.h>

namespace mamori::vtpm::state {

namespace {

// AES-256-GCM through OpenSSL's EVP interface (the libcrypto that
// vtpm-service links for libtpms anyway): one call per direction, the
// whole sealed header as AAD.
struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
  CipherCtx() = default;
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
};

bool gcm_seal(const SealingKey& key, const uint8_t* nonce, const uint8_t* aad, size_t aad_len, const uint8_t* in,
              size_t len, uint8_t* out, uint8_t* tag) {
  CipherCtx c;
  int n = 0;
  if (c.ctx == nullptr || EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kSealedNonceSize), nullptr) != 1 ||
      EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(c.ctx, nullptr, &n, aad, static_cast<int>(aad_len)) != 1 ||
      (len > 0 && EVP_EncryptUpdate(c.ctx, out, &n, in, static_cast<int>(len)) != 1) ||
      EVP_EncryptFinal_ex(c.ctx, out + len, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kSealedTagSize), tag) != 1) {
    return false;
  }
  return true;
}

bool gcm_open(const SealingKey& key, const uint8_t* nonce, const uint8_t* aad, size_t aad_len, const uint8_t* in,
              size_t len, const uint8_t* tag, uint8_t* out) {
  CipherCtx c;
  int n = 0;
  uint8_t tag_copy[kSealedTagSize];
  for (size_t i = 0; i < kSealedTagSize; ++i) tag_copy[i] = tag[i];
  uint8_t end[16];
  return c.ctx != nullptr && EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kSealedNonceSize), nullptr) == 1 &&
         EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce) == 1 &&
         EVP_DecryptUpdate(c.ctx, nullptr, &n, aad, static_cast<int>(aad_len)) == 1 &&
         (len == 0 || EVP_DecryptUpdate(c.ctx, out, &n, in, static_cast<int>(len)) == 1) &&
         EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kSealedTagSize), tag_copy) == 1 &&
         EVP_DecryptFinal_ex(c.ctx, end, &n) == 1;  // 1 only when the tag matches
}

}  // namespace

std::vector<uint8_t> seal(const SealingKey& key, uint8_t kind, const uint8_t* plaintext, size_t len,
                          const uint8_t (&nonce)[kSealedNonceSize]) {
  if (len > kMaxSealedPlaintext || !is_sealed_kind(kind)) return {};
  SealedHeader h{};
  h.kind = kind;
  h.length = static_cast<uint32_t>(len);
  for (size_t i = 0; i < kSealedNonceSize; ++i) h.nonce[i] = nonce[i];
  std::vector<uint8_t> file(kSealedHeaderSize + len + kSealedTagSize);
  encode_sealed_header(h, file.data(), file.size());
  uint8_t* tag = file.data() + kSealedHeaderSize + len;
  if (!gcm_seal(key, nonce, file.data(), kSealedHeaderSize, plaintext, len, file.data() + kSealedHeaderSize, tag)) {
    return {};
  }
  return file;
}

OpenError open_sealed(const SealingKey& key, uint8_t expected, const uint8_t* file, size_t len,
                      std::vector<uint8_t>& out, std::string& detail) {
  SealedHeader h{};
  const SealedError se = parse_sealed_header(file, len, h);
  if (se != SealedError::none) {
    detail = sealed_error_name(se);
    return OpenError::format;
  }
  if (h.kind != expected) {
    detail = "file holds another blob type";
    return OpenError::wrong_type;
  }
  std::vector<uint8_t> plain(h.length);
  const uint8_t* tag = file + kSealedHeaderSize + h.length;
  if (!gcm_open(key, h.nonce, file, kSealedHeaderSize, file + kSealedHeaderSize, h.length, tag, plain.data())) {
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
