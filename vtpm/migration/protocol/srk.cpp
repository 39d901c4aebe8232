#include "vtpm/migration/protocol/srk.hpp"

#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/duplication/duplicate.hpp"
#include "vtpm/migration/host/errors.hpp"

namespace mamori::migration {

SrkKind parse_srk_kind(const std::string& s) {
  if (s == "rsa" || s == "rsa2048") return SrkKind::kRsa2048;
  if (s == "ecc" || s == "ecc256" || s == "p256") return SrkKind::kEccP256;
  throw MigrationError(Refusal::kUsage, "storage key kind must be rsa or ecc, not '" + s + "'");
}

const char* to_string(SrkKind k) { return k == SrkKind::kRsa2048 ? "rsa2048" : "ecc-p256"; }

tpm2::PublicArea srk_template(SrkKind k) {
  return k == SrkKind::kRsa2048 ? tpm2::srk_template_rsa2048() : tpm2::srk_template_ecc_p256();
}

tpm::LoadedKey create_srk(tpm::TpmClient& tpm, SrkKind k) {
  tpm::LoadedKey key = tpm.create_primary(srk_template(k));
  Bytes expect = object_name(crypto::span(key.public_area));
  if (expect != key.name) {
    tpm.flush(key.handle);
    throw MigrationError(Refusal::kTpmError, "TPM returned a Name that does not match the storage key's public area");
  }
  return key;
}

ScopedHandle::~ScopedHandle() {
  try {
    tpm_.flush(h_);
  } catch (...) {
    // Flushing is best effort: the resource manager (or TPM reset) reclaims it.
  }
}

}  // namespace mamori::migration
