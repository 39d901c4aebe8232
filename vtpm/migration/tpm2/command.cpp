#include "vtpm/migration/tpm2/command.hpp"

#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::migration::tpm2 {

CommandBuilder::CommandBuilder(uint8_t* buf, size_t cap, uint32_t cc, bool sessions) : w_(buf, cap) {
  w_.u16(sessions ? kStSessions : kStNoSessions);
  w_.u32(0);  // commandSize, patched in finish()
  w_.u32(cc);
}

void CommandBuilder::auth(protocol::ByteSpan password, uint32_t session, uint8_t attributes) {
  w_.u32(static_cast<uint32_t>(4 + 2 + 1 + 2 + password.size));  // authorizationSize
  w_.u32(session);
  w_.u16(0);           // nonceCaller (empty)
  w_.u8(attributes);
  w_.tpm2b(password);  // hmac: for TPM_RS_PW the password itself (Part 1 §19.8.4)
}

size_t CommandBuilder::finish() {
  w_.patch_u32(protocol::kTpmSizeFieldOffset, static_cast<uint32_t>(w_.size()));
  return w_.ok() ? w_.size() : 0;
}

ResponseStatus parse_response(const uint8_t* rsp, size_t len, bool sessions, size_t handles_out, Response& out) {
  out = Response{};
  protocol::ByteReader r(rsp, len);
  const uint16_t tag = r.u16();
  const uint32_t size = r.u32();
  out.rc = r.u32();
  if (!r.ok() || size != len) return ResponseStatus::size_mismatch;
  if (out.rc != kRcSuccess) {
    if (tag != kStNoSessions) return ResponseStatus::bad_tag;
    return len == protocol::kTpmHeaderSize ? ResponseStatus::tpm_error : ResponseStatus::error_with_body;
  }
  if (tag != (sessions ? kStSessions : kStNoSessions)) return ResponseStatus::bad_tag;
  for (size_t i = 0; i < handles_out; ++i) out.handle = r.u32();
  if (!r.ok()) return ResponseStatus::missing_handle;
  if (!sessions) {
    out.params = r.bytes(r.remaining());
    return ResponseStatus::ok;
  }
  const uint32_t param_size = r.u32();
  out.params = r.bytes(param_size);
  if (!r.ok()) return ResponseStatus::bad_parameter_size;
  // One TPMS_AUTH_RESPONSE (nonceTPM, sessionAttributes, hmac) per command
  // session: checked for shape only.
  r.tpm2b(kMaxDigestBuffer);
  r.u8();
  r.tpm2b(kMaxDigestBuffer);
  if (!r.ok() || !r.at_end()) {
    out.params = {};
    return ResponseStatus::bad_auth_area;
  }
  return ResponseStatus::ok;
}

size_t build_create_primary(uint8_t* buf, size_t cap, uint32_t hierarchy, protocol::ByteSpan hierarchy_auth,
                            const PublicArea& tmpl) {
  CommandBuilder c(buf, cap, kCcCreatePrimary, true);
  c.w().u32(hierarchy);
  c.auth(hierarchy_auth);
  // inSensitive: TPM2B_SENSITIVE_CREATE { userAuth empty, data empty }
  c.w().u16(4);
  c.w().u16(0);
  c.w().u16(0);
  // inPublic: TPM2B_PUBLIC
  size_t at = c.w().reserve_u16();
  size_t start = c.w().size();
  if (!write_public(c.w(), tmpl)) return 0;
  c.w().patch_u16(at, static_cast<uint16_t>(c.w().size() - start));
  c.w().u16(0);  // outsideInfo
  c.w().u32(0);  // creationPCR: count 0
  return c.finish();
}

const char* parse_create_primary(protocol::ByteSpan params, CreatedPrimary& out) {
  out = CreatedPrimary{};
  protocol::ByteReader r(params.data, params.size);
  if (read_public_2b(r, out.pub, out.public_raw) != PublicError::kOk) return "CreatePrimary outPublic";
  r.tpm2b(kMaxPublicSize);    // creationData (TPM2B_CREATION_DATA)
  r.tpm2b(kMaxDigestBuffer);  // creationHash
  r.u16();                    // creationTicket: tag, hierarchy, digest
  r.u32();
  r.tpm2b(kMaxDigestBuffer);
  out.name = r.tpm2b(kMaxNameSize);
  if (!r.ok()) return "CreatePrimary parameters";
  if (!r.at_end()) return "trailing bytes";
  return nullptr;
}

size_t build_flush_context(uint8_t* buf, size_t cap, uint32_t handle) {
  CommandBuilder c(buf, cap, kCcFlushContext, false);
  c.w().u32(handle);
  return c.finish();
}

const char* response_status_name(ResponseStatus s) {
  switch (s) {
    case ResponseStatus::ok: return "ok";
    case ResponseStatus::tpm_error: return "TPM error";
    case ResponseStatus::size_mismatch: return "size field does not match";
    case ResponseStatus::bad_tag: return "unexpected tag";
    case ResponseStatus::error_with_body: return "error response with a body";
    case ResponseStatus::missing_handle: return "missing handle";
    case ResponseStatus::bad_parameter_size: return "parameterSize exceeds response";
    case ResponseStatus::bad_auth_area: return "malformed authorization area";
  }
  return "?";
}

}  // namespace mamori::vtpm::migration::tpm2
