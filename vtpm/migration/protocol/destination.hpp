// Destination side of the migration (docs/migration.md):
//   make_offer   fresh nonce + SRK public/name, remembered as outstanding
//   import       all checks, TPM2_Import/Load/Unseal of K, decrypt and
//                verify, restore the vTPM instance, consume the nonce,
//                record the epoch, produce the acknowledgement
// Local state (one directory per destination host):
//   offers/<nonce>       outstanding offers (the SRK they were made for)
//   epochs/<vm>.<srcname> the last accepted epoch per VM and source TPM
//   acks/<vm>            the last acknowledgement per VM, so that a lost ack
//                        can be sent again (the source must not resume a
//                        VM the destination has already restored)
#pragma once
#include <string>

#include "vtpm/migration/files.hpp"
#include "vtpm/migration/format/package.hpp"
#include "vtpm/migration/protocol/srk.hpp"
#include "vtpm/migration/tpm/tpm_client.hpp"

namespace mamori::vtpm::migration {

struct ImportedState {
  Bytes permanent, volatile_state, savestate;
  uint8_t vm_id[kVmIdSize] = {};
  uint8_t nonce[kNonceSize] = {};
  uint64_t epoch = 0;
  Bytes source_name;
  Bytes ack;  // the acknowledgement to send back
};

struct ImportTimings {  // microseconds, for the benchmark
  uint64_t srk_us = 0;     // CreatePrimary of the storage key
  uint64_t unwrap_us = 0;  // TPM2_Import + Load + Unseal + flushes
  uint64_t verify_us = 0;  // header MAC + AES-256-GCM decrypt
};

class Destination {
 public:
  Destination(tpm::TpmClient& tpm, std::string state_dir);

  Bytes make_offer(const SrkSpec& srk);

  // Verifies and opens a package; nothing is changed on refusal
  // (throws MigrationError with the reason). `expected_vm` is the VM this
  // host is prepared to receive.
  ImportedState open_package(const Bytes& package, const uint8_t expected_vm[kVmIdSize],
                             ImportTimings* timings = nullptr);
  // After the vTPM instance has been restored from `s`: consume the nonce
  // and record the epoch. Until then the package can be retried.
  void commit(const ImportedState& s);
  // The acknowledgement of the last migration of `vm` accepted here.
  Bytes last_ack(const uint8_t vm[kVmIdSize]) const;

 private:
  std::string offer_path(protocol::ByteSpan nonce) const;
  std::string epoch_path(protocol::ByteSpan vm, protocol::ByteSpan source_name) const;
  std::string ack_path(const uint8_t vm[kVmIdSize]) const;
  tpm::TpmClient& tpm_;
  std::string dir_;
};

}  // namespace mamori::vtpm::migration
