// The TPM 2.0 command frame, once: building a command (header, handles,
// one authorization session, parameters) into a caller's buffer and
// splitting a response into response code, handle and parameters, with
// every size checked (TPM 2.0 Part 1 §18 "Command/Response Structure",
// §18.6-18.8 authorization areas, Part 2 §10.13 TPMS_AUTH_COMMAND/RESPONSE).
//
// Pure and allocation-free: used by the host tool's TpmClient
// (vtpm/migration/tpm) and by the VMM's platform TPM command layer
// (drivers/tpm/tpm_commands), over the byte codec of vtpm/protocol.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/migration/tpm2/constants.hpp"
#include "vtpm/migration/tpm2/public_area.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration::tpm2 {

class CommandBuilder {
 public:
  // Starts a command with code `cc`; `sessions` selects TPM_ST_SESSIONS.
  CommandBuilder(uint8_t* buf, size_t cap, uint32_t cc, bool sessions);
  protocol::ByteWriter& w() { return w_; }
  // An authorization area with one session (Part 1 §18.6, Part 2 §10.13.2):
  // by default the password session TPM_RS_PW with `password` (empty: the
  // empty authValue) and no nonce.
  void auth(protocol::ByteSpan password = {}, uint32_t session = kRsPw, uint8_t attributes = 0);
  // Patches the size field; the command's length, or 0 when it did not fit.
  size_t finish();

 private:
  protocol::ByteWriter w_;
};

enum class ResponseStatus : uint8_t {
  ok,               // rc == 0 and the shape matched; `params` is set
  tpm_error,        // a well-formed error response (header only); see rc
  size_mismatch,    // responseSize differs from the bytes received, or < header
  bad_tag,          // not the tag the command's sessions call for
  error_with_body,  // an error response longer than its header
  missing_handle,   // shorter than the handles the command returns
  bad_parameter_size,  // parameterSize runs past the response
  bad_auth_area,    // the authorization area is not one well-formed session, or bytes trail it
};
const char* response_status_name(ResponseStatus s);

struct Response {
  uint32_t rc = 0;
  uint32_t handle = 0;  // the last returned handle, when handles_out > 0
  protocol::ByteSpan params;  // points into the response buffer
};

// Splits a response to a command that returns `handles_out` handles and was
// sent with (sessions) or without an authorization area.
ResponseStatus parse_response(const uint8_t* rsp, size_t len, bool sessions, size_t handles_out, Response& out);

// Part 2 §6.6.3: warnings after which the command was not executed and may
// be sent again (TPM_RC_YIELDED, TPM_RC_TESTING, TPM_RC_NV_RATE, TPM_RC_RETRY).
constexpr bool rc_is_retry(uint32_t rc) { return rc == 0x908 || rc == 0x90A || rc == 0x920 || rc == 0x922; }

// TPM2_CreatePrimary (Part 3 §24.1) in `hierarchy` authorized by a
// password session with `hierarchy_auth`: empty inSensitive (no userAuth,
// no data), `tmpl` as inPublic, no outsideInfo, no creationPCR. The
// command's length, 0 when it does not fit.
size_t build_create_primary(uint8_t* buf, size_t cap, uint32_t hierarchy, protocol::ByteSpan hierarchy_auth,
                            const PublicArea& tmpl);
// The parameters of its response: outPublic (parsed, and its raw
// TPMT_PUBLIC bytes), creationData, creationHash, creationTicket, name.
struct CreatedPrimary {
  PublicArea pub;
  protocol::ByteSpan public_raw;
  protocol::ByteSpan name;
};
// nullptr, or which field was refused.
const char* parse_create_primary(protocol::ByteSpan params, CreatedPrimary& out);

// TPM2_FlushContext (Part 3 §28.4).
size_t build_flush_context(uint8_t* buf, size_t cap, uint32_t handle);

}  // namespace mamori::vtpm::migration::tpm2
