// The destination's storage key: a primary key created in the owner
// hierarchy from the standard SRK template (tpm2/public_area.hpp). Creating
// a primary from the same template is deterministic (Part 1 §27.2 primary
// seed + template), so the key need not be persisted.
#pragma once
#include <string>

#include "vtpm/migration/tpm/tpm_client.hpp"

namespace mamori::migration {

enum class SrkKind : uint8_t { kRsa2048 = 1, kEccP256 = 2 };

SrkKind parse_srk_kind(const std::string& s);  // "rsa" | "ecc"
const char* to_string(SrkKind k);
tpm2::PublicArea srk_template(SrkKind k);

// CreatePrimary; checks the returned Name against the public area (the
// client trusts its TPM, but a mismatch means a broken transport or TPM).
tpm::LoadedKey create_srk(tpm::TpmClient& tpm, SrkKind k);

// Flushes a transient handle when it goes out of scope.
class ScopedHandle {
 public:
  ScopedHandle(tpm::TpmClient& tpm, uint32_t h) : tpm_(tpm), h_(h) {}
  ~ScopedHandle();
  ScopedHandle(const ScopedHandle&) = delete;
  ScopedHandle& operator=(const ScopedHandle&) = delete;
  uint32_t get() const { return h_; }

 private:
  tpm::TpmClient& tpm_;
  uint32_t h_;
};

}  // namespace mamori::migration
