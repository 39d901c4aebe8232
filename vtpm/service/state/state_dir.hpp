// The host-mode state directory: one sealed file per blob and a sealed
// manifest (manifest.hpp) that binds them together and to the instance.
// A change is committed in two phases: the new blob goes to NAME.tmp
// (fsync), then the manifest naming its digest replaces manifest.sealed
// (write, fsync, rename: the commit point), then NAME.tmp replaces NAME. A
// crash at any instant leaves the old state or the new one: at load, a
// NAME.tmp whose digest the manifest names is rolled forward. A lock file
// keeps two processes from sharing one directory.
//
// Load refuses (clear error, nothing touched) a file the manifest does not
// name — an old copy, a file of another instance, a deleted one — and a
// manifest of another instance (--instance-id). With a monotonic counter
// (the NV counter of a physical TPM, as vtpm-migrate's rollback epoch) it
// also refuses a whole directory restored from an older copy.
#pragma once
#include <string>
#include <vector>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/state/manifest.hpp"
#include "vtpm/service/state/sealer.hpp"

namespace mamori::vtpm::state {

// A counter that only goes up and lives outside the state directory.
class MonotonicCounter {
 public:
  virtual ~MonotonicCounter() = default;
  virtual bool read(uint64_t& value, std::string& err) = 0;
  virtual bool increment(std::string& err) = 0;
};

struct StateDirOptions {
  std::string instance_id;              // empty: the directory's own random identity
  MonotonicCounter* counter = nullptr;  // null: no rollback detection of the whole directory
  bool adopt = false;                   // bind files written before manifests existed
};

class StateDir final : public engine::StateListener {
 public:
  StateDir(std::string dir, const SealingKey& key, StateDirOptions opt = {});
  ~StateDir() override;
  // Creates/locks the directory. False with err if locked or unusable.
  bool open(std::string& err);
  // Reads every present sealed file and preloads it into the engine. Any
  // file that fails to open is an error: the process refuses to start and
  // the file stays untouched.
  bool load_into(engine::TpmEngine& tpm, std::string& err);

  uint32_t state_changed(protocol::BlobType type, const uint8_t* data, size_t len) override;

  static const char* file_name(protocol::BlobType type);

  uint64_t generation() const { return manifest_.generation; }

 private:
  bool write_file(const std::string& name, const std::vector<uint8_t>& bytes, std::string& err);
  bool write_atomically(const std::string& name, const std::vector<uint8_t>& bytes, std::string& err);
  bool commit_manifest(std::string& err);
  bool check_instance(std::string& err);
  bool check_epoch(std::string& err);
  bool remove(const std::string& name, std::string& err);
  bool sync_dir(std::string& err);

  std::string dir_;
  SealingKey key_;
  StateDirOptions opt_;
  Manifest manifest_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
};

}  // namespace mamori::vtpm::state
