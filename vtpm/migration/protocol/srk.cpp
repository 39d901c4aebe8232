#include "vtpm/migration/protocol/srk.hpp"

#include <cstdio>
#include <cstdlib>

#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/crypto/duplicate.hpp"
#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration {

namespace {
constexpr uint16_t kRsaBits = 2048;
}

SrkSpec parse_srk_spec(const std::string& s) {
  if (s == "rsa" || s == "rsa2048") return {SrkKind::kRsa2048, 0};
  if (s == "ecc" || s == "ecc256" || s == "p256") return {SrkKind::kEccP256, 0};
  char* end = nullptr;
  unsigned long h = std::strtoul(s.c_str(), &end, 0);
  if (!s.empty() && end && *end == '\0' && h >= kPersistentFirst && h <= kPersistentLast)
    return {SrkKind::kPersistent, static_cast<uint32_t>(h)};
  throw MigrationError(Refusal::kUsage,
                       "storage key must be rsa, ecc or a persistent handle 0x81xxxxxx, not '" + s + "'");
}

std::string to_string(const SrkSpec& s) {
  switch (s.kind) {
    case SrkKind::kRsa2048: return "rsa2048";
    case SrkKind::kEccP256: return "ecc-p256";
    case SrkKind::kPersistent: {
      char b[24];
      std::snprintf(b, sizeof b, "persistent 0x%08x", s.handle);
      return b;
    }
  }
  return "?";
}

tpm2::PublicArea srk_template(SrkKind k) {
  return k == SrkKind::kEccP256 ? tpm2::srk_template_ecc_p256() : tpm2::srk_template_rsa2048();
}

Srk::Srk(tpm::TpmClient& tpm, const SrkSpec& spec) : tpm_(tpm) {
  if (spec.kind == SrkKind::kPersistent) {
    key_ = tpm.read_public(spec.handle);
    transient_ = false;
  } else {
    key_ = tpm.create_primary(srk_template(spec.kind));
  }
  try {
    // The client trusts its TPM, but a mismatch means a broken transport or
    // TPM — or a persistent key that is not a usable storage key.
    if (crypto::object_name(crypto::span(key_.public_area)) != key_.name)
      throw MigrationError(Refusal::kTpmError, "the storage key's Name does not match its public area");
    tpm2::PublicArea p;
    if (tpm2::parse_public(key_.public_area.data(), key_.public_area.size(), p) != tpm2::PublicError::kOk ||
        !p.is_storage_parent() || p.name_alg != tpm2::kAlgSha256)
      throw MigrationError(Refusal::kState, "the storage key is not a SHA-256 AES-CFB storage parent");
    if ((p.attributes & (tpm2::kObjFixedTpm | tpm2::kObjFixedParent)) !=
        (tpm2::kObjFixedTpm | tpm2::kObjFixedParent))
      throw MigrationError(Refusal::kState, "the storage key could leave the TPM (fixedTPM/fixedParent clear)");
    bool rsa_ok = p.type == tpm2::kAlgRsa && p.rsa_key_bits == kRsaBits;
    bool ecc_ok = p.type == tpm2::kAlgEcc && p.ecc_curve == tpm2::kEccNistP256;
    if (!rsa_ok && !ecc_ok) throw MigrationError(Refusal::kState, "the storage key is neither RSA-2048 nor P-256");
  } catch (...) {
    if (transient_) tpm_.flush(key_.handle);
    throw;
  }
}

Srk::~Srk() {
  if (!transient_) return;
  try {
    tpm_.flush(key_.handle);
  } catch (...) {
    // best effort: the resource manager (or TPM reset) reclaims it
  }
}

ScopedHandle::~ScopedHandle() {
  try {
    tpm_.flush(h_);
  } catch (...) {
    // Flushing is best effort: the resource manager (or TPM reset) reclaims it.
  }
}

}  // namespace mamori::vtpm::migration
