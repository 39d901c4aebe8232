// The host-mode state directory: one sealed file per blob, replaced
// atomically (write DIR/NAME.tmp, fsync it, rename over DIR/NAME, fsync DIR),
// so a crash at any instant leaves either the old or the new file, never a
// torn one. A lock file keeps two processes from sharing one directory.
#pragma once
#include <string>
#include <vector>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/state/sealer.hpp"

namespace mamori::vtpm::state {

class StateDir final : public engine::StateListener {
 public:
  StateDir(std::string dir, const SealingKey& key);
  ~StateDir() override;
  // Creates/locks the directory. False with err if locked or unusable.
  bool open(std::string& err);
  // Reads every present sealed file and preloads it into the engine. Any
  // file that fails to open is an error: the process refuses to start and
  // the file stays untouched.
  bool load_into(engine::TpmEngine& tpm, std::string& err);

  uint32_t state_changed(wire::BlobType type, const uint8_t* data, size_t len) override;

  static const char* file_name(wire::BlobType type);

 private:
  bool write_atomically(const std::string& name, const std::vector<uint8_t>& bytes, std::string& err);
  bool remove(const std::string& name, std::string& err);
  bool sync_dir(std::string& err);

  std::string dir_;
  SealingKey key_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
};

}  // namespace mamori::vtpm::state
