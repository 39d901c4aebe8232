#include "tests/unit/common/libtpms_backend.hpp"

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <string>

#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::test {
namespace {

// In-memory NV storage so tests neither need nor leave files.
std::map<std::string, std::vector<uint8_t>>& nv_store() {
  static std::map<std::string, std::vector<uint8_t>> store;
  return store;
}

TPM_RESULT nv_init() { return TPM_SUCCESS; }

TPM_RESULT nv_load(unsigned char** data, uint32_t* length, uint32_t, const char* name) {
  auto it = nv_store().find(name);
  if (it == nv_store().end()) return TPM_RETRY;  // "no state yet": libtpms manufactures
  *data = static_cast<unsigned char*>(malloc(it->second.size()));
  if (*data == nullptr) return TPM_FAIL;
  memcpy(*data, it->second.data(), it->second.size());
  *length = static_cast<uint32_t>(it->second.size());
  return TPM_SUCCESS;
}

TPM_RESULT nv_store_data(const unsigned char* data, uint32_t length, uint32_t, const char* name) {
  nv_store()[name].assign(data, data + length);
  return TPM_SUCCESS;
}

TPM_RESULT nv_delete(uint32_t, const char* name, TPM_BOOL must_exist) {
  const size_t n = nv_store().erase(name);
  return (n == 0 && must_exist) ? TPM_FAIL : TPM_SUCCESS;
}

[[noreturn]] void die(const char* what, TPM_RESULT rc) {
  fprintf(stderr, "libtpms backend: %s failed (0x%x)\n", what, rc);
  abort();
}

void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
  put16(v, static_cast<uint16_t>(x >> 16));
  put16(v, static_cast<uint16_t>(x));
}
void fix_size(std::vector<uint8_t>& v) {
  vtpm::protocol::store_be32(v.data() + vtpm::protocol::kTpmSizeFieldOffset, static_cast<uint32_t>(v.size()));
}

// TPM 2.0 Part 2 constants used by the command builders.
constexpr uint32_t kCcStartup = 0x144;
constexpr uint32_t kCcGetRandom = 0x17B;
constexpr uint32_t kCcPcrExtend = 0x182;
constexpr uint32_t kCcPcrRead = 0x17E;
constexpr uint32_t kCcGetCapability = 0x17A;
constexpr uint16_t kSuClear = 0x0000;
constexpr uint16_t kAlgSha256 = 0x000B;
constexpr uint32_t kRsPw = 0x40000009;
constexpr uint32_t kCapTpmProperties = 6;
constexpr uint32_t kPtTotalCommands = 0x100 + 29;  // PT_FIXED + 29
constexpr size_t kSha256Size = 32;

}  // namespace

LibtpmsBackend& LibtpmsBackend::instance() {
  static LibtpmsBackend backend;
  return backend;
}

LibtpmsBackend::LibtpmsBackend() {
  static libtpms_callbacks cbs{};
  cbs.sizeOfStruct = sizeof cbs;
  cbs.tpm_nvram_init = nv_init;
  cbs.tpm_nvram_loaddata = nv_load;
  cbs.tpm_nvram_storedata = nv_store_data;
  cbs.tpm_nvram_deletename = nv_delete;
  TPM_RESULT rc = TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2);
  if (rc != TPM_SUCCESS) die("TPMLIB_ChooseTPMVersion", rc);
  rc = TPMLIB_RegisterCallbacks(&cbs);
  if (rc != TPM_SUCCESS) die("TPMLIB_RegisterCallbacks", rc);
  rc = TPMLIB_MainInit();
  if (rc != TPM_SUCCESS) die("TPMLIB_MainInit", rc);
  std::vector<uint8_t> startup;
  put16(startup, vtpm::protocol::kTpmStNoSessions);
  put32(startup, 0);
  put32(startup, kCcStartup);
  put16(startup, kSuClear);
  fix_size(startup);
  const auto rsp = execute(startup);
  if (response_code(rsp) != vtpm::protocol::kTpmRcSuccess) die("TPM2_Startup", response_code(rsp));
}

std::vector<uint8_t> LibtpmsBackend::execute(const std::vector<uint8_t>& command) {
  std::vector<uint8_t> cmd = command;  // TPMLIB_Process takes a non-const buffer
  unsigned char* rbuf = nullptr;
  uint32_t rlen = 0, rcap = 0;
  const TPM_RESULT rc = TPMLIB_Process(&rbuf, &rlen, &rcap, cmd.data(), static_cast<uint32_t>(cmd.size()));
  std::vector<uint8_t> out;
  if (rc == TPM_SUCCESS && rbuf != nullptr) out.assign(rbuf, rbuf + rlen);
  free(rbuf);
  return out;
}

void LibtpmsBackend::submit(vtpm::SubmissionId id, uint8_t, const uint8_t* command, size_t command_len,
                            uint8_t* response, size_t response_cap, vtpm::TpmCompletion& done) {
  ++submissions_;
  last_command_.assign(command, command + command_len);
  Pending p{id, last_command_, response, response_cap, &done, false};
  if (mode_ == Mode::Immediate) {
    run(p);
  } else {
    queue_.push_back(std::move(p));
  }
}

void LibtpmsBackend::cancel(vtpm::SubmissionId id) {
  ++cancels_;
  for (Pending& p : queue_) {
    if (p.id == id) p.canceled = true;
  }
}

size_t LibtpmsBackend::run_pending() {
  std::vector<Pending> q;
  q.swap(queue_);
  for (Pending& p : q) run(p);
  return q.size();
}

void LibtpmsBackend::run(Pending& p) {
  size_t len = 0;
  if (p.canceled) {
    // A command cancelled before it started: TPM_RC_CANCELED (Part 2, 6.6.3).
    len = vtpm::protocol::write_error_response(p.response, p.response_cap, vtpm::protocol::kTpmRcCanceled);
  } else {
    const auto rsp = execute(p.command);
    if (rsp.size() <= p.response_cap) {
      memcpy(p.response, rsp.data(), rsp.size());
      len = rsp.size();
    }
  }
  p.done->complete(p.id, len);
}

std::vector<uint8_t> make_get_random(uint16_t bytes) {
  std::vector<uint8_t> v;
  put16(v, vtpm::protocol::kTpmStNoSessions);
  put32(v, 0);
  put32(v, kCcGetRandom);
  put16(v, bytes);
  fix_size(v);
  return v;
}

std::vector<uint8_t> make_pcr_extend_sha256(uint32_t pcr, uint8_t fill) {
  std::vector<uint8_t> v;
  put16(v, vtpm::protocol::kTpmStSessions);
  put32(v, 0);
  put32(v, kCcPcrExtend);
  put32(v, pcr);
  // Authorization area: one password session with an empty password.
  put32(v, 9);       // authorizationSize
  put32(v, kRsPw);   // sessionHandle
  put16(v, 0);       // nonce (empty)
  v.push_back(0);    // sessionAttributes
  put16(v, 0);       // hmac (empty password)
  put32(v, 1);       // TPML_DIGEST_VALUES.count
  put16(v, kAlgSha256);
  for (size_t i = 0; i < kSha256Size; ++i) v.push_back(fill);
  fix_size(v);
  return v;
}

std::vector<uint8_t> make_pcr_read_sha256(uint32_t pcr) {
  std::vector<uint8_t> v;
  put16(v, vtpm::protocol::kTpmStNoSessions);
  put32(v, 0);
  put32(v, kCcPcrRead);
  put32(v, 1);  // TPML_PCR_SELECTION.count
  put16(v, kAlgSha256);
  v.push_back(3);  // sizeofSelect
  uint8_t sel[3] = {0, 0, 0};
  sel[pcr / 8] = static_cast<uint8_t>(1u << (pcr % 8));
  v.insert(v.end(), sel, sel + 3);
  fix_size(v);
  return v;
}

std::vector<uint8_t> make_get_capability_total_commands() {
  std::vector<uint8_t> v;
  put16(v, vtpm::protocol::kTpmStNoSessions);
  put32(v, 0);
  put32(v, kCcGetCapability);
  put32(v, kCapTpmProperties);
  put32(v, kPtTotalCommands);
  put32(v, 1);
  fix_size(v);
  return v;
}

uint32_t response_code(const std::vector<uint8_t>& rsp) {
  vtpm::protocol::TpmHeader h{};
  if (!vtpm::protocol::parse_header(rsp.data(), rsp.size(), h)) return 0xFFFFFFFFu;
  return h.code;
}

}  // namespace mamori::test
