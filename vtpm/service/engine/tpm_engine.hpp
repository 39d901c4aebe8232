// The TPM itself: libtpms behind a small typed interface. libtpms keeps one
// TPM per address space (global state, no context handle), so there is one
// TpmEngine per process, reached through instance().
//
// State model: the engine holds the three state blobs (permanent, volatile,
// savestate) in memory. libtpms reads them through our nvram_loaddata
// callback at init and hands every change to nvram_storedata, which updates
// the held copy and then tells the StateListener (host mode: seal to the
// state directory; partition mode: a state_changed frame) *before* the
// command's response is released, so the holder never loses a committed change.
#pragma once
#include <stdint.h>
#include <stddef.h>

#include <optional>
#include <vector>

#include "vtpm/protocol/partition_frame.hpp"

namespace mamori::vtpm::engine {

using protocol::BlobType;

class StateListener {
 public:
  virtual ~StateListener() = default;
  // Returns 0 if the change is durably held, a TPM_RESULT otherwise (the
  // command that caused it then fails instead of silently losing state).
  virtual uint32_t state_changed(BlobType type, const uint8_t* data, size_t len) = 0;
};

class TpmEngine {
 public:
  static TpmEngine& instance();

  void set_listener(StateListener* l) { listener_ = l; }

  // _TPM_Init from the held state (power-on or reset; swtpm CMD_INIT). A
  // running TPM is terminated first. Returns a TPM_RESULT (0 = success).
  uint32_t init(bool delete_volatile);
  // TPMLIB_Terminate; the held state stays (swtpm CMD_STOP).
  void stop();
  bool running() const { return running_; }

  // Runs one complete, framed TPM command at the given locality. rsp gets the
  // response. Returns 0, or a TPM_RESULT if libtpms could not run it.
  uint32_t execute(const uint8_t* cmd, uint32_t len, uint8_t locality, std::vector<uint8_t>& rsp);

  uint32_t cancel();
  uint32_t hash_start();
  uint32_t hash_data(const uint8_t* data, uint32_t len);
  uint32_t hash_end();
  uint32_t get_established(bool& bit);
  uint32_t reset_established(uint8_t locality);

  // Exports a blob. The volatile blob of a running TPM is taken fresh
  // (TPMLIB_VolatileAll_Store); others are the held copies. A missing blob
  // is exported as empty, as swtpm does.
  uint32_t get_state(BlobType type, std::vector<uint8_t>& out);
  // swtpm CMD_STORE_VOLATILE: the running TPM's volatile state becomes the
  // held volatile blob and goes to the listener (host: the state directory).
  uint32_t store_volatile();
  // Imports an untrusted blob (migration, SET_STATEBLOB): only while
  // stopped, and only after it passed validation; an empty blob deletes it.
  uint32_t set_state(BlobType type, const uint8_t* data, size_t len);
  // Installs a blob that is already authenticated (our own sealed file).
  void preload_state(BlobType type, std::vector<uint8_t> blob);
  bool has_state(BlobType type) const;

  // TPMLIB_SetBufferSize (swtpm CMD_SET_BUFFERSIZE): wanted 0 queries;
  // a change is only allowed while stopped. Returns a TPM_RESULT.
  uint32_t buffer_size(uint32_t wanted, uint32_t& size, uint32_t& min_size, uint32_t& max_size);
  uint32_t max_command_size() const { return max_command_; }

  // libtpms callbacks (C linkage trampolines call these).
  uint32_t cb_load(BlobType type, unsigned char** data, uint32_t* length);
  uint32_t cb_store(BlobType type, const unsigned char* data, uint32_t length);
  uint32_t cb_delete(BlobType type);
  uint32_t cb_locality() const { return locality_; }

 private:
  TpmEngine();
  static size_t index(BlobType t) { return static_cast<size_t>(t); }

  std::optional<std::vector<uint8_t>> blobs_[4];
  StateListener* listener_ = nullptr;
  bool running_ = false;
  uint8_t locality_ = 0;
  uint32_t max_command_ = protocol::kMaxTpmCommand;
  unsigned char* rsp_buf_ = nullptr;   // libtpms grows this buffer itself
  uint32_t rsp_buf_size_ = 0;
  std::vector<uint8_t> cmd_copy_;
};

// libtpms' names for the blobs passed to the nvram callbacks (tpm_nvfilename.h).
bool blob_type_from_name(const char* name, BlobType& out);
const char* blob_type_name(BlobType t);

}  // namespace mamori::vtpm::engine
