#include "vtpm/migration/tpm2/public_area.hpp"

#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration::tpm2 {

const char* to_string(PublicError e) {
  switch (e) {
    case PublicError::kOk: return "ok";
    case PublicError::kTruncated: return "public area truncated or malformed";
    case PublicError::kUnsupportedType: return "public area type not supported (RSA, ECC, keyedhash only)";
    case PublicError::kUnsupportedAlgorithm: return "public area uses an unsupported algorithm";
    case PublicError::kTrailingBytes: return "public area has trailing bytes";
  }
  return "?";
}

bool PublicArea::is_storage_parent() const {
  // Part 1 §25.1 / Part 2 §12.2.3.6: a storage parent is a restricted
  // decryption key whose symmetric field names the protection cipher.
  return (attributes & kObjRestricted) && (attributes & kObjDecrypt) && !(attributes & kObjSign) &&
         symmetric.algorithm == kAlgAes && symmetric.mode == kAlgCfb &&
         (symmetric.key_bits == 128 || symmetric.key_bits == 256);
}

namespace {

bool read_symdef(protocol::ByteReader& r, SymDef& s) {
  s.algorithm = r.u16();
  if (s.algorithm == kAlgNull) return r.ok();
  if (s.algorithm != kAlgAes) return false;
  s.key_bits = r.u16();
  s.mode = r.u16();
  return r.ok();
}

void write_symdef(protocol::ByteWriter& w, const SymDef& s) {
  w.u16(s.algorithm);
  if (s.algorithm == kAlgNull) return;
  w.u16(s.key_bits);
  w.u16(s.mode);
}

// TPMU_ASYM_SCHEME / TPMU_SIG_SCHEME details (Part 2 §11.2.3): empty for
// NULL and RSAES, hash+count for ECDAA, a hash for the others.
bool read_scheme(protocol::ByteReader& r, Scheme& s) {
  s.scheme = r.u16();
  if (s.scheme == kAlgNull || s.scheme == kAlgRsaes) return r.ok();
  s.hash_alg = r.u16();
  if (s.scheme == kAlgEcdaa) s.count = r.u16();
  return r.ok();
}

void write_scheme(protocol::ByteWriter& w, const Scheme& s) {
  w.u16(s.scheme);
  if (s.scheme == kAlgNull || s.scheme == kAlgRsaes) return;
  w.u16(s.hash_alg);
  if (s.scheme == kAlgEcdaa) w.u16(s.count);
}

// TPMT_KEYEDHASH_SCHEME (Part 2 §11.1.23): HMAC has a hash, XOR a hash and KDF.
bool read_keyedhash_scheme(protocol::ByteReader& r, Scheme& s) {
  s.scheme = r.u16();
  if (s.scheme == kAlgNull) return r.ok();
  if (s.scheme == kAlgHmac) {
    s.hash_alg = r.u16();
  } else if (s.scheme == kAlgXor) {
    s.hash_alg = r.u16();
    s.count = r.u16();  // the KDF algorithm, kept in `count`
  } else {
    return false;
  }
  return r.ok();
}

void write_keyedhash_scheme(protocol::ByteWriter& w, const Scheme& s) {
  w.u16(s.scheme);
  if (s.scheme == kAlgHmac) w.u16(s.hash_alg);
  if (s.scheme == kAlgXor) {
    w.u16(s.hash_alg);
    w.u16(s.count);
  }
}

PublicError read_body(protocol::ByteReader& r, PublicArea& p) {
  p.type = r.u16();
  p.name_alg = r.u16();
  p.attributes = r.u32();
  p.auth_policy = r.tpm2b(kMaxDigestBuffer);
  if (!r.ok()) return PublicError::kTruncated;
  if (p.name_alg != kAlgSha256) return PublicError::kUnsupportedAlgorithm;
  switch (p.type) {
    case kAlgRsa:
      if (!read_symdef(r, p.symmetric) || !read_scheme(r, p.scheme))
        return r.ok() ? PublicError::kUnsupportedAlgorithm : PublicError::kTruncated;
      p.rsa_key_bits = r.u16();
      p.rsa_exponent = r.u32();
      p.unique_rsa = r.tpm2b(kMaxRsaKeyBytes);
      break;
    case kAlgEcc:
      if (!read_symdef(r, p.symmetric) || !read_scheme(r, p.scheme))
        return r.ok() ? PublicError::kUnsupportedAlgorithm : PublicError::kTruncated;
      p.ecc_curve = r.u16();
      if (!read_scheme(r, p.ecc_kdf)) return r.ok() ? PublicError::kUnsupportedAlgorithm : PublicError::kTruncated;
      p.unique_x = r.tpm2b(kMaxEccKeyBytes);
      p.unique_y = r.tpm2b(kMaxEccKeyBytes);
      break;
    case kAlgKeyedHash:
      if (!read_keyedhash_scheme(r, p.scheme))
        return r.ok() ? PublicError::kUnsupportedAlgorithm : PublicError::kTruncated;
      p.unique_digest = r.tpm2b(kMaxDigestBuffer);
      break;
    default:
      return PublicError::kUnsupportedType;
  }
  return r.ok() ? PublicError::kOk : PublicError::kTruncated;
}

}  // namespace

PublicError parse_public(const uint8_t* data, size_t size, PublicArea& out) {
  protocol::ByteReader r(data, size);
  out = PublicArea{};
  PublicError e = read_body(r, out);
  if (e != PublicError::kOk) return e;
  return r.at_end() ? PublicError::kOk : PublicError::kTrailingBytes;
}

PublicError read_public_2b(protocol::ByteReader& r, PublicArea& out, protocol::ByteSpan& raw) {
  raw = r.tpm2b(kMaxPublicSize);
  if (!r.ok()) return PublicError::kTruncated;
  return parse_public(raw.data, raw.size, out);
}

bool write_public(protocol::ByteWriter& w, const PublicArea& p) {
  w.u16(p.type);
  w.u16(p.name_alg);
  w.u32(p.attributes);
  w.tpm2b(p.auth_policy);
  switch (p.type) {
    case kAlgRsa:
      write_symdef(w, p.symmetric);
      write_scheme(w, p.scheme);
      w.u16(p.rsa_key_bits);
      w.u32(p.rsa_exponent);
      w.tpm2b(p.unique_rsa);
      break;
    case kAlgEcc:
      write_symdef(w, p.symmetric);
      write_scheme(w, p.scheme);
      w.u16(p.ecc_curve);
      write_scheme(w, p.ecc_kdf);
      w.tpm2b(p.unique_x);
      w.tpm2b(p.unique_y);
      break;
    case kAlgKeyedHash:
      write_keyedhash_scheme(w, p.scheme);
      w.tpm2b(p.unique_digest);
      break;
    default:
      return false;
  }
  return w.ok();
}

namespace {
constexpr uint16_t kSrkAesBits = 128;
constexpr uint16_t kSrkRsaBits = 2048;
}  // namespace

PublicArea srk_template_rsa2048() {
  PublicArea p;
  p.type = kAlgRsa;
  p.name_alg = kAlgSha256;
  p.attributes = kSrkAttributes;
  p.symmetric = {kAlgAes, kSrkAesBits, kAlgCfb};
  p.scheme = {kAlgNull, 0, 0};
  p.rsa_key_bits = kSrkRsaBits;
  p.rsa_exponent = 0;
  return p;
}

PublicArea srk_template_ecc_p256() {
  PublicArea p;
  p.type = kAlgEcc;
  p.name_alg = kAlgSha256;
  p.attributes = kSrkAttributes;
  p.symmetric = {kAlgAes, kSrkAesBits, kAlgCfb};
  p.scheme = {kAlgNull, 0, 0};
  p.ecc_curve = kEccNistP256;
  p.ecc_kdf = {kAlgNull, 0, 0};
  return p;
}

static_assert(kSrkAttributes == (kObjFixedTpm | kObjFixedParent | kObjSensitiveDataOrigin | kObjUserWithAuth |
                                 kObjNoDa | kObjRestricted | kObjDecrypt),
              "SRK attribute set must match the Provisioning Guidance template");

}  // namespace mamori::vtpm::migration::tpm2
