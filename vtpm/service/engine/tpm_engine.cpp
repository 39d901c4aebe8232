#include "vtpm/service/engine/tpm_engine.hpp"

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_nvfilename.h>
#include <libtpms/tpm_tis.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm/service/state/blob_check.hpp"
#include "vtpm/service/state/blob_digest.hpp"

namespace mamori::vtpm::engine {

namespace {

TPM_RESULT nv_init() { return TPM_SUCCESS; }

TPM_RESULT nv_load(unsigned char** data, uint32_t* length, uint32_t, const char* name) {
  BlobType t;
  if (!blob_type_from_name(name, t)) return TPM_RETRY;  // TPM_RETRY = "no such state"
  return TpmEngine::instance().cb_load(t, data, length);
}

TPM_RESULT nv_store(const unsigned char* data, uint32_t length, uint32_t, const char* name) {
  BlobType t;
  if (!blob_type_from_name(name, t)) return TPM_FAIL;
  return TpmEngine::instance().cb_store(t, data, length);
}

TPM_RESULT nv_delete(uint32_t, const char* name, TPM_BOOL) {
  BlobType t;
  if (!blob_type_from_name(name, t)) return TPM_SUCCESS;
  return TpmEngine::instance().cb_delete(t);
}

TPM_RESULT io_init() { return TPM_SUCCESS; }

TPM_RESULT io_locality(TPM_MODIFIER_INDICATOR* loc, uint32_t) {
  *loc = TpmEngine::instance().cb_locality();
  return TPM_SUCCESS;
}

// Physical presence is asserted by no one: the guest's platform is virtual
// (swtpm answers FALSE as well).
TPM_RESULT io_physical_presence(TPM_BOOL* pp, uint32_t) {
  *pp = 0;
  return TPM_SUCCESS;
}

TPMLIB_StateType lib_state_type(BlobType t) {
  switch (t) {
    case BlobType::permanent: return TPMLIB_STATE_PERMANENT;
    case BlobType::volatile_state: return TPMLIB_STATE_VOLATILE;
    case BlobType::savestate: return TPMLIB_STATE_SAVE_STATE;
  }
  return TPMLIB_STATE_PERMANENT;
}

}  // namespace

bool blob_type_from_name(const char* name, BlobType& out) {
  if (name == nullptr) return false;
  if (strcmp(name, TPM_PERMANENT_ALL_NAME) == 0) { out = BlobType::permanent; return true; }
  if (strcmp(name, TPM_VOLATILESTATE_NAME) == 0) { out = BlobType::volatile_state; return true; }
  if (strcmp(name, TPM_SAVESTATE_NAME) == 0) { out = BlobType::savestate; return true; }
  return false;
}

const char* blob_type_name(BlobType t) {
  switch (t) {
    case BlobType::permanent: return TPM_PERMANENT_ALL_NAME;
    case BlobType::volatile_state: return TPM_VOLATILESTATE_NAME;
    case BlobType::savestate: return TPM_SAVESTATE_NAME;
  }
  return "?";
}

TpmEngine& TpmEngine::instance() {
  static TpmEngine engine;
  return engine;
}

TpmEngine::TpmEngine() {
  static libtpms_callbacks callbacks = {};
  callbacks.sizeOfStruct = sizeof(callbacks);
  callbacks.tpm_nvram_init = nv_init;
  callbacks.tpm_nvram_loaddata = nv_load;
  callbacks.tpm_nvram_storedata = nv_store;
  callbacks.tpm_nvram_deletename = nv_delete;
  callbacks.tpm_io_init = io_init;
  callbacks.tpm_io_getlocality = io_locality;
  callbacks.tpm_io_getphysicalpresence = io_physical_presence;
  TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2);
  TPMLIB_RegisterCallbacks(&callbacks);
  cmd_copy_.resize(protocol::kMaxTpmCommand);
}

uint32_t TpmEngine::init(bool delete_volatile) {
  if (running_) stop();
  TPM_RESULT rc = TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2);
  if (rc != TPM_SUCCESS) return rc;
  rc = TPMLIB_MainInit();
  if (rc != TPM_SUCCESS) return rc;
  running_ = true;
  uint32_t min_size = 0, max_size = 0;
  max_command_ = TPMLIB_SetBufferSize(0, &min_size, &max_size);
  if (max_command_ > protocol::kMaxTpmCommand) max_command_ = protocol::kMaxTpmCommand;
  if (delete_volatile && blobs_[index(BlobType::volatile_state)]) {
    // swtpm PTM_INIT_FLAG_DELETE_VOLATILE: the volatile state was consumed.
    return cb_delete(BlobType::volatile_state);
  }
  return TPM_SUCCESS;
}

void TpmEngine::stop() {
  if (running_) TPMLIB_Terminate();
  running_ = false;
}

uint32_t TpmEngine::execute(const uint8_t* cmd, uint32_t len, uint8_t locality, std::vector<uint8_t>& rsp) {
  if (!running_) return TPM_BAD_ORDINAL;
  if (len > cmd_copy_.size()) return TPM_SIZE;
  memcpy(cmd_copy_.data(), cmd, len);
  locality_ = locality;
  uint32_t rsp_len = 0;
  const TPM_RESULT rc = TPMLIB_Process(&rsp_buf_, &rsp_len, &rsp_buf_size_, cmd_copy_.data(), len);
  if (rc != TPM_SUCCESS) return rc;
  rsp.assign(rsp_buf_, rsp_buf_ + rsp_len);
  return TPM_SUCCESS;
}

// Commands run to completion on this single thread: when a cancel is read,
// no command is executing, so there is nothing to cancel. Calling
// TPMLIB_CancelCommand here would instead cancel the *next* long command.
uint32_t TpmEngine::cancel() { return running_ ? TPM_SUCCESS : TPM_BAD_ORDINAL; }

uint32_t TpmEngine::hash_start() { return running_ ? TPM_IO_Hash_Start() : TPM_BAD_ORDINAL; }
uint32_t TpmEngine::hash_data(const uint8_t* data, uint32_t len) {
  return running_ ? TPM_IO_Hash_Data(data, len) : TPM_BAD_ORDINAL;
}
uint32_t TpmEngine::hash_end() { return running_ ? TPM_IO_Hash_End() : TPM_BAD_ORDINAL; }

uint32_t TpmEngine::get_established(bool& bit) {
  if (!running_) return TPM_BAD_ORDINAL;
  TPM_BOOL b = 0;
  const TPM_RESULT rc = TPM_IO_TpmEstablished_Get(&b);
  bit = b != 0;
  return rc;
}

uint32_t TpmEngine::reset_established(uint8_t locality) {
  if (!running_) return TPM_BAD_ORDINAL;
  if (locality > protocol::kMaxLocality) return TPM_BAD_LOCALITY;
  const uint8_t saved = locality_;
  locality_ = locality;
  const TPM_RESULT rc = TPM_IO_TpmEstablished_Reset();
  locality_ = saved;
  return rc;
}

uint32_t TpmEngine::get_state(BlobType type, std::vector<uint8_t>& out) {
  out.clear();
  if (running_ && type == BlobType::volatile_state) {
    unsigned char* buf = nullptr;
    uint32_t len = 0;
    const TPM_RESULT rc = TPMLIB_VolatileAll_Store(&buf, &len);
    if (rc != TPM_SUCCESS) return rc;
    out.assign(buf, buf + len);
    free(buf);
    return TPM_SUCCESS;
  }
  const auto& held = blobs_[index(type)];
  if (held) out = *held;
  return TPM_SUCCESS;
}

uint32_t TpmEngine::store_volatile() {
  if (!running_) return TPM_BAD_ORDINAL;
  std::vector<uint8_t> blob;
  const uint32_t rc = get_state(BlobType::volatile_state, blob);
  if (rc != TPM_SUCCESS) return rc;
  return cb_store(BlobType::volatile_state, blob.data(), static_cast<uint32_t>(blob.size()));
}

uint32_t TpmEngine::set_state(BlobType type, const uint8_t* data, size_t len) {
  if (running_) return TPM_BAD_ORDINAL;  // as swtpm: state is replaced only while stopped
  auto& slot = blobs_[index(type)];
  if (len == 0) {
    slot.reset();
    return TPM_SUCCESS;
  }
  const state::BlobCheck check = state::check_state_blob(type, data, len);
  if (check != state::BlobCheck::ok) return TPM_BAD_PARAMETER;
  if (type == BlobType::volatile_state && !state::volatile_digest_ok(data, len)) return TPM_BAD_PARAMETER;
  // libtpms' own validation unmarshals the candidate through our load
  // callback; the previous blob comes back if it fails.
  std::optional<std::vector<uint8_t>> previous = std::move(slot);
  slot.emplace(data, data + len);
  const TPM_RESULT rc = TPMLIB_ValidateState(lib_state_type(type), 0);
  if (rc != TPM_SUCCESS) {
    slot = std::move(previous);
    return TPM_BAD_PARAMETER;
  }
  if (listener_ != nullptr) {
    const uint32_t lrc = listener_->state_changed(type, slot->data(), slot->size());
    if (lrc != 0) {
      slot = std::move(previous);
      return lrc;
    }
  }
  return TPM_SUCCESS;
}

void TpmEngine::preload_state(BlobType type, std::vector<uint8_t> blob) {
  blobs_[index(type)] = std::move(blob);
}

bool TpmEngine::has_state(BlobType type) const { return blobs_[index(type)].has_value(); }

uint32_t TpmEngine::buffer_size(uint32_t wanted, uint32_t& size, uint32_t& min_size, uint32_t& max_size) {
  if (wanted != 0 && running_) return TPM_BAD_ORDINAL;
  size = TPMLIB_SetBufferSize(wanted, &min_size, &max_size);
  if (wanted != 0) max_command_ = size > protocol::kMaxTpmCommand ? protocol::kMaxTpmCommand : size;
  return TPM_SUCCESS;
}

uint32_t TpmEngine::cb_load(BlobType type, unsigned char** data, uint32_t* length) {
  const auto& held = blobs_[index(type)];
  if (!held || held->empty()) return TPM_RETRY;
  // libtpms frees the buffer with free().
  auto* copy = static_cast<unsigned char*>(malloc(held->size()));
  if (copy == nullptr) return TPM_SIZE;
  memcpy(copy, held->data(), held->size());
  *data = copy;
  *length = static_cast<uint32_t>(held->size());
  return TPM_SUCCESS;
}

uint32_t TpmEngine::cb_store(BlobType type, const unsigned char* data, uint32_t length) {
  auto& slot = blobs_[index(type)];
  slot.emplace(data, data + length);
  if (listener_ != nullptr) return listener_->state_changed(type, data, length);
  return TPM_SUCCESS;
}

uint32_t TpmEngine::cb_delete(BlobType type) {
  blobs_[index(type)].reset();
  if (listener_ != nullptr) return listener_->state_changed(type, nullptr, 0);
  return TPM_SUCCESS;
}

}  // namespace mamori::vtpm::engine
