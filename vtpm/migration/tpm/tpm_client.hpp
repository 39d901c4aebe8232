// A physical-TPM client for what the migration needs, speaking raw TPM 2.0
// commands (Part 3) over a Transport. Every response is parsed defensively:
// header size must equal the bytes received, tags must match, every TPM2B is
// bounds-checked, trailing bytes are an error.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "vtpm/migration/tpm/transport.hpp"
#include "vtpm/migration/tpm2/public_area.hpp"

namespace mamori::vtpm::migration::tpm {

// A TPM response code other than success (Part 2 §6.6).
class TpmError : public std::runtime_error {
 public:
  TpmError(uint32_t command, uint32_t rc);
  uint32_t command() const { return command_; }
  uint32_t rc() const { return rc_; }
  // Format-1 codes carry parameter/handle/session numbers in bits 6..11;
  // this strips them (Part 2 §6.6.3) so callers can compare the base code.
  uint32_t base() const { return (rc_ & 0x80) ? (rc_ & 0xBF) : rc_; }

 private:
  uint32_t command_;
  uint32_t rc_;
};

struct LoadedKey {
  uint32_t handle = 0;
  Bytes public_area;  // TPMT_PUBLIC
  Bytes name;
};

class TpmClient {
 public:
  explicit TpmClient(Transport& t) : t_(t) {}

  Bytes get_random(size_t n);
  // TPM2_CreatePrimary in the owner hierarchy, empty auth, no sensitive data.
  LoadedKey create_primary(const tpm2::PublicArea& tmpl);
  LoadedKey read_public(uint32_t handle);
  // TPM2_Import with no inner wrapper (encryptionKey empty, symmetricAlg NULL).
  Bytes import(uint32_t parent, protocol::ByteSpan object_public, protocol::ByteSpan duplicate, protocol::ByteSpan in_sym_seed);
  uint32_t load(uint32_t parent, protocol::ByteSpan private_2b_contents, protocol::ByteSpan object_public);
  // TPM2_Unseal with a password session, or with the given policy session.
  Bytes unseal(uint32_t item, uint32_t policy_session = 0);
  void flush(uint32_t handle);
  // TPM2_EvictControl by the owner (Part 3 §28.5): makes a transient object
  // persistent at `persistent`, or (object == persistent) evicts it.
  void evict_control(uint32_t object, uint32_t persistent);

  // NV counter (Part 3 §31.8 NV_Increment); owner authorization, empty password.
  // Returns true if it was defined now, false if it already existed as a counter.
  bool nv_define_counter(uint32_t index);
  void nv_increment(uint32_t index);
  uint64_t nv_read_counter(uint32_t index);
  // NV_ReadPublic attributes, or throws TpmError (TPM_RC_HANDLE if undefined).
  uint32_t nv_attributes(uint32_t index);

  // Unsalted, unbound policy session with SHA-256 (Part 3 §11.1).
  uint32_t start_policy_session();
  void policy_command_code(uint32_t session, uint32_t command_code);
  Bytes policy_get_digest(uint32_t session);

  // The owner hierarchy's authValue, sent as the password for commands
  // authorized by TPM_RH_OWNER (CreatePrimary, NV_DefineSpace,
  // NV_Increment, EvictControl). Empty by default.
  void set_owner_auth(Bytes auth) { owner_auth_ = std::move(auth); }
  // TPM2_HierarchyChangeAuth of the owner hierarchy (Part 3 §24.8);
  // remembers the new value.
  void change_owner_auth(protocol::ByteSpan new_auth);

  Transport& transport() { return t_; }
  // How often and how patiently a TPM_RC_RETRY-class warning is retried
  // (the delay grows linearly with the attempt).
  void set_retry_policy(int max_retries, int delay_ms) {
    max_retries_ = max_retries;
    retry_delay_ms_ = delay_ms;
  }

 private:
  Bytes run(uint32_t cc, protocol::ByteSpan cmd, size_t handles_out, bool sessions, protocol::ByteSpan& params, uint32_t* out_handle);
  Transport& t_;
  Bytes owner_auth_;
  int max_retries_ = 20;
  int retry_delay_ms_ = 10;
};

std::string rc_to_string(uint32_t rc);

}  // namespace mamori::vtpm::migration::tpm
