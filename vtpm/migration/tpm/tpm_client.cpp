#include "vtpm/migration/tpm/tpm_client.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm2/command.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration::tpm {

using namespace tpm2;

namespace {

constexpr size_t kMaxCommand = 4096;
constexpr uint16_t kMaxRandomPerCall = 32;  // Part 3 §16.1: at most sizeof(TPMU_HA) per call is guaranteed
constexpr size_t kNvCounterSize = 8;         // Part 2 §13.4: TPM_NT_COUNTER data is a UINT64

// Builds a command (tpm2/command.hpp) into a buffer of its own.
class Command {
 public:
  Command(uint32_t cc, bool sessions) : buf_(kMaxCommand), b_(buf_.data(), buf_.size(), cc, sessions) {}
  protocol::ByteWriter& w() { return b_.w(); }
  void auth(uint32_t session_handle = kRsPw, uint8_t attributes = 0, protocol::ByteSpan password = {}) {
    b_.auth(password, session_handle, attributes);
  }
  // A password session carrying the owner hierarchy's authValue.
  void owner_auth(const Bytes& owner) { auth(kRsPw, 0, protocol::ByteSpan{owner.data(), owner.size()}); }
  protocol::ByteSpan finish() {
    size_t n = b_.finish();
    if (n == 0) throw MigrationError(Refusal::kUsage, "TPM command too large");
    return {buf_.data(), n};
  }

 private:
  Bytes buf_;
  CommandBuilder b_;
};

[[noreturn]] void bad_response(const char* what) {
  throw MigrationError(Refusal::kTransport, std::string("malformed TPM response: ") + what);
}

void expect_end(protocol::ByteReader& r, const char* what) {
  if (!r.ok()) bad_response(what);
  if (!r.at_end()) bad_response("trailing bytes");
}

Bytes to_bytes(protocol::ByteSpan s) { return Bytes(s.data, s.data + s.size); }

}  // namespace

TpmError::TpmError(uint32_t command, uint32_t rc)
    : std::runtime_error([&] {
        char b[96];
        std::snprintf(b, sizeof b, "TPM command 0x%03x failed: rc 0x%03x", command, rc);
        return std::string(b) + " (" + rc_to_string(rc) + ")";
      }()),
      command_(command),
      rc_(rc) {}

std::string rc_to_string(uint32_t rc) {
  uint32_t base = (rc & 0x80) ? (rc & 0xBF) : rc;
  switch (base) {
    case 0x09F: return "TPM_RC_INTEGRITY: integrity check failed";
    case 0x08B: return "TPM_RC_HANDLE";
    case 0x095: return "TPM_RC_SIZE";
    case 0x084: return "TPM_RC_VALUE";
    case 0x082: return "TPM_RC_ATTRIBUTES";
    case 0x09C: return "TPM_RC_KEY";
    case 0x08E: return "TPM_RC_AUTH_FAIL";
    case 0x0A5: return "TPM_RC_BINDING";
    case 0x09D: return "TPM_RC_POLICY_FAIL";
    case 0x14C: return "TPM_RC_NV_DEFINED";
    case 0x14A: return "TPM_RC_NV_UNINITIALIZED";
    case 0x100: return "TPM_RC_INITIALIZE";
    case 0x101: return "TPM_RC_FAILURE";
    case 0x902: return "TPM_RC_OBJECT_MEMORY: no room for another object (is a resource manager in between?)";
    case 0x922: return "TPM_RC_RETRY";
  }
  return "see TPM 2.0 Part 2 §6.6";
}

Bytes TpmClient::run(uint32_t cc, protocol::ByteSpan cmd, size_t handles_out, bool sessions, protocol::ByteSpan& params,
                     uint32_t* out_handle) {
  Bytes rsp;
  Response parsed;
  ResponseStatus st;
  for (int attempt = 0;; ++attempt) {
    rsp = t_.transact(cmd);
    st = parse_response(rsp.data(), rsp.size(), sessions, handles_out, parsed);
    // Part 2 §6.6.3: retry-class warnings mean the command was not
    // executed and should be sent again.
    if (st != ResponseStatus::tpm_error || !rc_is_retry(parsed.rc) || attempt >= max_retries_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(retry_delay_ms_ * (attempt + 1)));
  }
  if (st == ResponseStatus::tpm_error) throw TpmError(cc, parsed.rc);
  if (st != ResponseStatus::ok) bad_response(response_status_name(st));
  if (handles_out > 0 && out_handle) *out_handle = parsed.handle;
  params = parsed.params;
  // `params` points into rsp: hand the buffer to the caller.
  size_t off = static_cast<size_t>(params.data - rsp.data());
  Bytes out(rsp.begin() + static_cast<long>(off), rsp.begin() + static_cast<long>(off + params.size));
  params = {nullptr, 0};
  return out;
}

Bytes TpmClient::get_random(size_t n) {
  Bytes out;
  while (out.size() < n) {
    uint16_t want = static_cast<uint16_t>(std::min<size_t>(n - out.size(), kMaxRandomPerCall));
    Command c(kCcGetRandom, false);
    c.w().u16(want);
    protocol::ByteSpan p;
    Bytes params = run(kCcGetRandom, c.finish(), 0, false, p, nullptr);
    protocol::ByteReader r(params.data(), params.size());
    protocol::ByteSpan got = r.tpm2b(kMaxDigestBuffer);
    expect_end(r, "GetRandom");
    if (got.size == 0 || got.size > want) bad_response("GetRandom size");
    out.insert(out.end(), got.data, got.data + got.size);
  }
  return out;
}

LoadedKey TpmClient::create_primary(const tpm2::PublicArea& tmpl) {
  Bytes buf(kMaxCommand);
  size_t n = build_create_primary(buf.data(), buf.size(), kRhOwner, {owner_auth_.data(), owner_auth_.size()}, tmpl);
  if (n == 0) throw MigrationError(Refusal::kUsage, "template does not marshal");
  protocol::ByteSpan p;
  LoadedKey k;
  Bytes params = run(kCcCreatePrimary, {buf.data(), n}, 1, true, p, &k.handle);
  CreatedPrimary created;
  if (const char* bad = parse_create_primary({params.data(), params.size()}, created)) bad_response(bad);
  k.public_area = to_bytes(created.public_raw);
  k.name = to_bytes(created.name);
  return k;
}

LoadedKey TpmClient::read_public(uint32_t handle) {
  Command c(kCcReadPublic, false);
  c.w().u32(handle);
  protocol::ByteSpan p;
  Bytes params = run(kCcReadPublic, c.finish(), 0, false, p, nullptr);
  protocol::ByteReader r(params.data(), params.size());
  tpm2::PublicArea pub;
  protocol::ByteSpan raw;
  if (read_public_2b(r, pub, raw) != tpm2::PublicError::kOk) bad_response("ReadPublic outPublic");
  LoadedKey k;
  k.handle = handle;
  k.public_area = to_bytes(raw);
  k.name = to_bytes(r.tpm2b(kMaxNameSize));
  r.tpm2b(kMaxNameSize);  // qualifiedName
  expect_end(r, "ReadPublic");
  return k;
}

Bytes TpmClient::import(uint32_t parent, protocol::ByteSpan object_public, protocol::ByteSpan duplicate, protocol::ByteSpan in_sym_seed) {
  Command c(kCcImport, true);
  c.w().u32(parent);
  c.auth();
  c.w().u16(0);                 // encryptionKey: no inner wrapper
  c.w().tpm2b(object_public);   // objectPublic
  c.w().tpm2b(duplicate);       // duplicate
  c.w().tpm2b(in_sym_seed);     // inSymSeed
  c.w().u16(kAlgNull);          // symmetricAlg: TPM_ALG_NULL
  protocol::ByteSpan p;
  Bytes params = run(kCcImport, c.finish(), 0, true, p, nullptr);
  protocol::ByteReader r(params.data(), params.size());
  protocol::ByteSpan priv = r.tpm2b(kMaxPrivateSize);
  expect_end(r, "Import");
  return to_bytes(priv);
}

uint32_t TpmClient::load(uint32_t parent, protocol::ByteSpan private_contents, protocol::ByteSpan object_public) {
  Command c(kCcLoad, true);
  c.w().u32(parent);
  c.auth();
  c.w().tpm2b(private_contents);
  c.w().tpm2b(object_public);
  protocol::ByteSpan p;
  uint32_t h = 0;
  Bytes params = run(kCcLoad, c.finish(), 1, true, p, &h);
  protocol::ByteReader r(params.data(), params.size());
  r.tpm2b(kMaxNameSize);
  expect_end(r, "Load");
  return h;
}

Bytes TpmClient::unseal(uint32_t item, uint32_t policy_session) {
  Command c(kCcUnseal, true);
  c.w().u32(item);
  if (policy_session)
    c.auth(policy_session, 0);  // the session ends with the command
  else
    c.auth();
  protocol::ByteSpan p;
  Bytes params = run(kCcUnseal, c.finish(), 0, true, p, nullptr);
  protocol::ByteReader r(params.data(), params.size());
  protocol::ByteSpan data = r.tpm2b(kMaxSymData);
  expect_end(r, "Unseal");
  return to_bytes(data);
}

void TpmClient::flush(uint32_t handle) {
  uint8_t buf[16];
  size_t n = build_flush_context(buf, sizeof buf, handle);
  protocol::ByteSpan p;
  Bytes params = run(kCcFlushContext, {buf, n}, 0, false, p, nullptr);
  if (!params.empty()) bad_response("FlushContext has parameters");
}

void TpmClient::change_owner_auth(protocol::ByteSpan new_auth) {
  Command c(kCcHierarchyChangeAuth, true);
  c.w().u32(kRhOwner);
  c.owner_auth(owner_auth_);
  c.w().tpm2b(new_auth);
  protocol::ByteSpan p;
  Bytes params = run(kCcHierarchyChangeAuth, c.finish(), 0, true, p, nullptr);
  if (!params.empty()) bad_response("HierarchyChangeAuth has parameters");
  owner_auth_.assign(new_auth.data, new_auth.data + new_auth.size);
}

void TpmClient::evict_control(uint32_t object, uint32_t persistent) {
  Command c(kCcEvictControl, true);
  c.w().u32(kRhOwner);
  c.w().u32(object);
  c.owner_auth(owner_auth_);
  c.w().u32(persistent);
  protocol::ByteSpan p;
  Bytes params = run(kCcEvictControl, c.finish(), 0, true, p, nullptr);
  if (!params.empty()) bad_response("EvictControl has parameters");
}

uint32_t TpmClient::nv_attributes(uint32_t index) {
  Command c(kCcNvReadPublic, false);
  c.w().u32(index);
  protocol::ByteSpan p;
  Bytes params = run(kCcNvReadPublic, c.finish(), 0, false, p, nullptr);
  protocol::ByteReader r(params.data(), params.size());
  protocol::ByteSpan nvpub = r.tpm2b(kMaxPublicSize);
  r.tpm2b(kMaxNameSize);
  expect_end(r, "NV_ReadPublic");
  // TPMS_NV_PUBLIC: nvIndex, nameAlg, attributes, authPolicy, dataSize
  protocol::ByteReader n(nvpub.data, nvpub.size);
  uint32_t idx = n.u32();
  n.u16();
  uint32_t attrs = n.u32();
  n.tpm2b(kMaxDigestBuffer);
  uint16_t data_size = n.u16();
  expect_end(n, "TPMS_NV_PUBLIC");
  if (idx != index) bad_response("NV_ReadPublic index mismatch");
  if ((attrs & kNvTypeMask) == kNvTypeCounter && data_size != kNvCounterSize) bad_response("counter size");
  return attrs;
}

bool TpmClient::nv_define_counter(uint32_t index) {
  if (index < kNvIndexFirst || index > kNvIndexLast) throw MigrationError(Refusal::kUsage, "not an NV index handle");
  Command c(kCcNvDefineSpace, true);
  c.w().u32(kRhOwner);
  c.owner_auth(owner_auth_);
  c.w().u16(0);  // auth: empty
  size_t at = c.w().reserve_u16();
  size_t start = c.w().size();
  c.w().u32(index);
  c.w().u16(kAlgSha256);
  // A counter (Part 2 §13.4 TPM_NT_COUNTER) only the owner may write and
  // anyone may read; noDA so a mistyped auth cannot lock the TPM out.
  c.w().u32(kNvTypeCounter | kNvOwnerWrite | kNvOwnerRead | kNvAuthRead | kNvNoDa);
  c.w().u16(0);  // authPolicy
  c.w().u16(static_cast<uint16_t>(kNvCounterSize));
  c.w().patch_u16(at, static_cast<uint16_t>(c.w().size() - start));
  protocol::ByteSpan p;
  try {
    run(kCcNvDefineSpace, c.finish(), 0, true, p, nullptr);
    return true;
  } catch (const TpmError& e) {
    if (e.base() != kRcNvDefined) throw;
  }
  uint32_t attrs = nv_attributes(index);
  if ((attrs & kNvTypeMask) != kNvTypeCounter)
    throw MigrationError(Refusal::kState, "NV index exists but is not a counter");
  return false;
}

void TpmClient::nv_increment(uint32_t index) {
  Command c(kCcNvIncrement, true);
  c.w().u32(kRhOwner);  // authHandle: owner (TPMA_NV_OWNERWRITE)
  c.w().u32(index);
  c.owner_auth(owner_auth_);
  protocol::ByteSpan p;
  run(kCcNvIncrement, c.finish(), 0, true, p, nullptr);
}

uint64_t TpmClient::nv_read_counter(uint32_t index) {
  Command c(kCcNvRead, true);
  c.w().u32(index);  // authHandle: the index itself (TPMA_NV_AUTHREAD, empty auth)
  c.w().u32(index);
  c.auth();
  c.w().u16(static_cast<uint16_t>(kNvCounterSize));
  c.w().u16(0);  // offset
  protocol::ByteSpan p;
  Bytes params = run(kCcNvRead, c.finish(), 0, true, p, nullptr);
  protocol::ByteReader r(params.data(), params.size());
  protocol::ByteSpan data = r.tpm2b(kMaxDigestBuffer);
  expect_end(r, "NV_Read");
  if (data.size != kNvCounterSize) bad_response("NV counter is not 8 bytes");
  protocol::ByteReader d(data.data, data.size);
  return d.u64();
}

uint32_t TpmClient::start_policy_session() {
  Command c(kCcStartAuthSession, false);
  c.w().u32(kRhNull);  // tpmKey: unsalted
  c.w().u32(kRhNull);  // bind: unbound
  Bytes nonce = get_random(kSha256DigestSize);
  c.w().tpm2b(protocol::ByteSpan{nonce.data(), nonce.size()});  // nonceCaller
  c.w().u16(0);                // encryptedSalt
  c.w().u8(kSePolicy);
  c.w().u16(kAlgNull);         // symmetric: none
  c.w().u16(kAlgSha256);       // authHash
  protocol::ByteSpan p;
  uint32_t h = 0;
  Bytes params = run(kCcStartAuthSession, c.finish(), 1, false, p, &h);
  protocol::ByteReader r(params.data(), params.size());
  r.tpm2b(kMaxDigestBuffer);  // nonceTPM
  expect_end(r, "StartAuthSession");
  return h;
}

void TpmClient::policy_command_code(uint32_t session, uint32_t command_code) {
  Command c(kCcPolicyCommandCode, false);
  c.w().u32(session);
  c.w().u32(command_code);
  protocol::ByteSpan p;
  Bytes params = run(kCcPolicyCommandCode, c.finish(), 0, false, p, nullptr);
  if (!params.empty()) bad_response("PolicyCommandCode has parameters");
}

Bytes TpmClient::policy_get_digest(uint32_t session) {
  Command c(kCcPolicyGetDigest, false);
  c.w().u32(session);
  protocol::ByteSpan p;
  Bytes params = run(kCcPolicyGetDigest, c.finish(), 0, false, p, nullptr);
  protocol::ByteReader r(params.data(), params.size());
  protocol::ByteSpan d = r.tpm2b(kMaxDigestBuffer);
  expect_end(r, "PolicyGetDigest");
  return to_bytes(d);
}

}  // namespace mamori::vtpm::migration::tpm
