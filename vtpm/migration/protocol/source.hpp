// Source side of the migration (docs/migration.md):
//   export_vtpm  check the offer, advance the rollback counter, lock and
//                export the vTPM, seal the state under a fresh K, wrap K to
//                the destination's SRK, remember a pending record
//   complete     verify the destination's ack, then delete the instance
//   resume       no ack (destination died or refused): restore and unlock
// Local state: pending/<vm>  nonce, epoch, ack key and the exported blobs
// (the instance's own state, kept 0600 like its state directory) until the
// migration completes or is abandoned.
#pragma once
#include <string>

#include "vtpm/migration/files.hpp"
#include "vtpm/migration/protocol/srk.hpp"
#include "vtpm/migration/tpm/tpm_client.hpp"
#include "vtpm/migration/tpm/control_channel.hpp"

namespace mamori::vtpm::migration {

struct ExportOptions {
  uint8_t vm_id[kVmIdSize] = {};
  uint32_t nv_index = 0;           // rollback counter in the source TPM
  SrkSpec source_srk;              // whose Name identifies this host
};

struct ExportTimings {              // microseconds, for the benchmark
  uint64_t setup_us = 0;            // SRK Name, NV counter, GetRandom
  uint64_t export_us = 0;           // GET_STATEBLOB x3 + STOP
  uint64_t seal_wrap_us = 0;        // K, wrap to the SRK, AES-256-GCM
};

struct PendingMigration {
  uint8_t vm_id[kVmIdSize] = {};
  uint8_t nonce[kNonceSize] = {};
  uint64_t epoch = 0;
  Bytes ack_key;
  Bytes permanent, volatile_state, savestate;
};

class Source {
 public:
  Source(tpm::TpmClient& tpm, std::string state_dir);

  Bytes export_vtpm(const Bytes& offer, tpm::ControlChannel& instance, const ExportOptions& opt,
                    ExportTimings* timings = nullptr);
  // Verifies the ack; on success forgets the pending migration and returns it.
  PendingMigration complete(const Bytes& ack);
  // Puts the exported state back into the (stopped) instance and restarts it.
  void resume(const uint8_t vm_id[kVmIdSize], tpm::ControlChannel& instance);
  bool has_pending(const uint8_t vm_id[kVmIdSize]) const;

 private:
  std::string pending_path(const uint8_t vm_id[kVmIdSize]) const;
  PendingMigration load_pending(const uint8_t vm_id[kVmIdSize]) const;
  tpm::TpmClient& tpm_;
  std::string dir_;
};

Bytes encode_pending(const PendingMigration& p);
bool decode_pending(const Bytes& b, PendingMigration& p);

// Restores blobs into a stopped instance and starts it (shared with the
// destination's restore).
void restore_instance(tpm::ControlChannel& instance, const Bytes& permanent, const Bytes& volatile_state,
                      const Bytes& savestate);

}  // namespace mamori::vtpm::migration
