// The storage key a package is wrapped to (destination) and whose Name
// identifies a host (source). Either
//  * a primary key created in the owner hierarchy from a standard SRK
//    template (tpm2/public_area.hpp) — deterministic for a given TPM
//    (Part 3 §24.1 TPM2_CreatePrimary: a primary key derives from the
//    hierarchy's primary seed and the template), so it need not be
//    persisted; or
//  * a persistent key already provisioned at a handle such as 0x81000001
//    (TCG Provisioning Guidance's SRK handle), read with TPM2_ReadPublic —
//    what a hardware TPM should use: RSA key generation there takes seconds.
#pragma once
#include <string>

#include "vtpm/migration/tpm/tpm_client.hpp"

namespace mamori::vtpm::migration {

enum class SrkKind : uint8_t { kRsa2048 = 1, kEccP256 = 2, kPersistent = 3 };

struct SrkSpec {
  SrkKind kind = SrkKind::kEccP256;  // fast to create on any TPM
  uint32_t handle = 0;  // kPersistent only
};

// "rsa" | "ecc" | a persistent handle "0x81xxxxxx"
SrkSpec parse_srk_spec(const std::string& s);
std::string to_string(const SrkSpec& s);
tpm2::PublicArea srk_template(SrkKind k);

inline constexpr uint32_t kPersistentFirst = 0x81000000;  // Part 2 §7.2 TPM_HT_PERSISTENT
inline constexpr uint32_t kPersistentLast = 0x81FFFFFF;
inline constexpr uint32_t kDefaultSrkHandle = 0x81000001;  // TCG Provisioning Guidance: the SRK's handle

// The storage key, loaded (CreatePrimary) or referenced (persistent), with
// its public area and Name checked: the Name must be H(public area), the
// key a SHA-256 storage parent (RSA-2048 or P-256) that cannot leave the
// TPM (fixedTPM, fixedParent). A transient key is flushed on destruction.
class Srk {
 public:
  Srk(tpm::TpmClient& tpm, const SrkSpec& spec);
  ~Srk();
  Srk(const Srk&) = delete;
  Srk& operator=(const Srk&) = delete;
  const tpm::LoadedKey& key() const { return key_; }
  uint32_t handle() const { return key_.handle; }
  const tpm::Bytes& name() const { return key_.name; }

 private:
  tpm::TpmClient& tpm_;
  tpm::LoadedKey key_;
  bool transient_ = true;
};

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

}  // namespace mamori::vtpm::migration
