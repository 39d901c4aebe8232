#include "vtpm/migration/crypto/duplicate.hpp"

#include <stdexcept>

#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration::crypto {

namespace {

using namespace tpm2;

constexpr size_t kDigest = kSha256DigestSize;
constexpr uint32_t kDigestBits = kDigest * 8;
// The sealed object: userWithAuth (unseal with an empty password), noDA,
// and nothing that would pin it to a TPM or parent (Part 3 §13.3.1).
constexpr uint32_t kSealedAttributes = kObjUserWithAuth | kObjNoDa;
constexpr size_t kP256CoordBytes = 32;
constexpr uint16_t kRsa2048Bits = 2048;

// "DUPLICATE" including its terminating NUL, as the RSA-OAEP label.
protocol::ByteSpan duplicate_label_with_nul() {
  return {reinterpret_cast<const uint8_t*>(kDuplicateLabel), sizeof kDuplicateLabel};
}

}  // namespace

Bytes object_name(protocol::ByteSpan tpmt_public) {
  Bytes name{static_cast<uint8_t>(kAlgSha256 >> 8), static_cast<uint8_t>(kAlgSha256 & 0xFF)};
  Bytes h = crypto::sha256(tpmt_public);
  name.insert(name.end(), h.begin(), h.end());
  return name;
}

Bytes keyedhash_sensitive_2b(protocol::ByteSpan auth_value, protocol::ByteSpan seed_value, protocol::ByteSpan data) {
  Bytes out(2 + 2 + 2 + auth_value.size + 2 + seed_value.size + 2 + data.size);
  protocol::ByteWriter w(out.data(), out.size());
  w.u16(static_cast<uint16_t>(out.size() - 2));  // TPM2B_SENSITIVE.size
  w.u16(kAlgKeyedHash);                          // sensitiveType
  w.tpm2b(auth_value);                           // authValue
  w.tpm2b(seed_value);                           // seedValue (obfuscation value)
  w.tpm2b(data);                                 // sensitive.bits
  if (!w.ok() || w.size() != out.size()) throw std::runtime_error("sensitive area does not fit");
  return out;
}

Bytes sealed_object_public(protocol::ByteSpan seed_value, protocol::ByteSpan data) {
  Bytes unique = crypto::sha256(seed_value, data);
  PublicArea p;
  p.type = kAlgKeyedHash;
  p.name_alg = kAlgSha256;
  p.attributes = kSealedAttributes;
  p.scheme = {kAlgNull, 0, 0};
  p.unique_digest = crypto::span(unique);
  Bytes out(256);
  protocol::ByteWriter w(out.data(), out.size());
  if (!write_public(w, p)) throw std::runtime_error("sealed object public does not fit");
  out.resize(w.size());
  return out;
}

Bytes outer_wrap(protocol::ByteSpan seed, uint16_t parent_sym_bits, protocol::ByteSpan name, protocol::ByteSpan tpm2b_sensitive) {
  Bytes sym_key = crypto::kdfa_sha256(seed, kStorageLabel, name, {}, parent_sym_bits);
  Bytes hmac_key = crypto::kdfa_sha256(seed, kIntegrityLabel, {}, {}, kDigestBits);
  Bytes enc = crypto::aes_cfb_encrypt(crypto::span(sym_key), tpm2b_sensitive);
  Bytes mac = crypto::hmac_sha256(crypto::span(hmac_key), crypto::span(enc), name);
  Bytes out(2 + mac.size() + enc.size());
  protocol::ByteWriter w(out.data(), out.size());
  w.tpm2b(crypto::span(mac));  // TPM2B_DIGEST outerHMAC
  w.bytes(crypto::span(enc));
  return out;
}

bool outer_unwrap(protocol::ByteSpan seed, uint16_t parent_sym_bits, protocol::ByteSpan name, protocol::ByteSpan duplicate,
                  Bytes& tpm2b_sensitive) {
  protocol::ByteReader r(duplicate.data, duplicate.size);
  protocol::ByteSpan mac = r.tpm2b(kMaxDigestBuffer);
  if (!r.ok() || mac.size != kDigest) return false;
  protocol::ByteSpan enc = r.bytes(r.remaining());
  Bytes hmac_key = crypto::kdfa_sha256(seed, kIntegrityLabel, {}, {}, kDigestBits);
  Bytes expect = crypto::hmac_sha256(crypto::span(hmac_key), enc, name);
  if (!crypto::equal(mac, crypto::span(expect))) return false;
  Bytes sym_key = crypto::kdfa_sha256(seed, kStorageLabel, name, {}, parent_sym_bits);
  tpm2b_sensitive = crypto::aes_cfb_decrypt(crypto::span(sym_key), enc);
  return true;
}

DuplicationBlob wrap_to_parent(const PublicArea& parent, protocol::ByteSpan secret, crypto::Drbg& rng) {
  if (!parent.is_storage_parent() || parent.name_alg != kAlgSha256)
    throw std::invalid_argument("new parent is not a SHA-256 AES-CFB storage key");
  if (secret.size == 0 || secret.size > kMaxSymData) throw std::invalid_argument("secret size out of range");

  DuplicationBlob blob;
  // The obfuscation value of the sensitive area (Part 2 §12.3.2.5 seedValue):
  // digest-sized and secret, so the public unique reveals nothing of K.
  Bytes seed_value = rng.generate(kDigest);
  blob.object_public = sealed_object_public(crypto::span(seed_value), secret);
  blob.name = object_name(crypto::span(blob.object_public));
  Bytes sensitive = keyedhash_sensitive_2b({}, crypto::span(seed_value), secret);

  Bytes seed;
  if (parent.type == kAlgRsa) {
    if (parent.rsa_key_bits != kRsa2048Bits || parent.unique_rsa.size != kRsa2048Bits / 8)
      throw std::invalid_argument("parent RSA key is not 2048-bit");
    seed = rng.generate(kDigest);
    blob.in_sym_seed = crypto::rsa_oaep_sha256_encrypt(parent.unique_rsa, parent.rsa_exponent,
                                                       duplicate_label_with_nul(), crypto::span(seed), rng);
  } else if (parent.type == kAlgEcc) {
    if (parent.ecc_curve != kEccNistP256 || parent.unique_x.size != kP256CoordBytes ||
        parent.unique_y.size != kP256CoordBytes)
      throw std::invalid_argument("parent ECC key is not NIST P-256");
    crypto::EcdhEphemeral e = crypto::ecdh_p256_ephemeral(parent.unique_x, parent.unique_y, rng);
    // seed = KDFe(nameAlg, Z.x, "DUPLICATE", Qe.x, Qparent.x, digest bits)
    seed = crypto::kdfe_sha256(crypto::span(e.z), kDuplicateLabel, crypto::span(e.qe_x), parent.unique_x,
                               kDigestBits);
    // TPM2B_ENCRYPTED_SECRET holds a marshalled TPMS_ECC_POINT (Part 2 §11.2.5.2).
    blob.in_sym_seed.resize(2 + e.qe_x.size() + 2 + e.qe_y.size());
    protocol::ByteWriter w(blob.in_sym_seed.data(), blob.in_sym_seed.size());
    w.tpm2b(crypto::span(e.qe_x));
    w.tpm2b(crypto::span(e.qe_y));
  } else {
    throw std::invalid_argument("parent type not supported");
  }
  blob.duplicate = outer_wrap(crypto::span(seed), parent.symmetric.key_bits, crypto::span(blob.name),
                              crypto::span(sensitive));
  return blob;
}

}  // namespace mamori::vtpm::migration::crypto
