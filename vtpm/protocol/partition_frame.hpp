// The partition-mode frame: how the VMM (or any holder of fds 0/1) talks to a
// vtpm-service process. One frame = a 12-byte little-endian header plus a
// payload. Specified in docs/vtpm-protocol.md; this file is the one parser of
// it, pure so the VMM links the same code (mamori_vtpm_protocol_fs).
//
//   0  u32 magic   'M','V','T','P'
//   4  u8  version kFrameVersion
//   5  u8  type    FrameType
//   6  u8  arg     locality / blob type / flags, per type
//   7  u8  reserved, must be 0
//   8  u32 length  payload bytes that follow
#pragma once
#include <stdint.h>
#include <stddef.h>

#include "vtpm/protocol/swtpm_ctrl.hpp"

namespace mamori::vtpm::protocol {

inline constexpr uint32_t kFrameMagic = 0x5054564Du;  // "MVTP" in memory order
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderSize = 12;
// Largest payload of any frame: bounds state blobs (libtpms' permanent state
// is well below this) so a hostile length cannot make either side allocate
// without limit.
inline constexpr uint32_t kMaxFramePayload = 1u << 20;
// Largest TPM command/response carried (libtpms' TPM_BUFFER_MAX for TPM 2.0).
inline constexpr uint32_t kMaxTpmCommand = 4096;
// Localities 0..4: TCG PC Client Platform TPM Profile §6.3.2.
inline constexpr uint8_t kMaxLocality = 4;

enum class FrameType : uint8_t {
  // requests, holder -> service
  tpm_command = 0x01,  // arg: locality; payload: one TPM command
  init = 0x02,         // arg: InitFlags; power-on or reset (_TPM_Init) from held state
  stop = 0x03,         // TPM stopped (TPMLIB_Terminate), process stays
  cancel = 0x04,       // cancel the running command (see protocol doc)
  get_state = 0x05,    // arg: BlobType
  set_state = 0x06,    // arg: BlobType; payload: blob; only while stopped
  hash_start = 0x07,   // locality-4 H-CRTM sequence, TPM 2.0 Part 1 §34.3
  hash_data = 0x08,    // payload: bytes to hash
  hash_end = 0x09,
  shutdown = 0x0A,     // stop and exit(0) after the result
  // responses, service -> holder
  tpm_response = 0x81,   // payload: the TPM response
  result = 0x82,         // arg: request type; payload: u32 LE result (0 = success)
  state = 0x83,          // arg: BlobType; payload: blob (answer to get_state)
  state_changed = 0x84,  // arg: BlobType; payload: blob; unsolicited, precedes the response
};

// Blob types: swtpm's PTM_BLOB_TYPE_* (tpm_ioctl.h), one definition.
using swtpm::BlobType;
using swtpm::is_blob_type;

// init flags, as swtpm's PTM_INIT_FLAG_DELETE_VOLATILE.
inline constexpr uint8_t kInitFlagDeleteVolatile = 0x01;

struct FrameHeader {
  FrameType type;
  uint8_t arg;
  uint32_t length;
};

// Header-level errors: the byte stream can no longer be trusted to be framed.
enum class FrameError : uint8_t { none, truncated, bad_magic, bad_version, bad_reserved, too_large };
// Request-level errors: the frame is well delimited but not acceptable; the
// payload is skipped and a result frame reports the error.
enum class RequestError : uint8_t { none, unknown_type, bad_arg, bad_length, size_mismatch };

FrameError decode_frame_header(const uint8_t* buf, size_t len, FrameHeader& out);
// Writes kFrameHeaderSize bytes; returns the number written (0 if cap too small).
size_t encode_frame_header(const FrameHeader& h, uint8_t* out, size_t cap);

// Checks type/arg/length of a request before its payload is read.
RequestError check_request_header(const FrameHeader& h);
// Checks the payload of a request whose header passed: a TPM command's own
// commandSize must equal the frame length (two sizes that disagree are a
// lie by one of them).
RequestError check_request_payload(const FrameHeader& h, const uint8_t* payload);
// Checks a response header (used by the holder, i.e. the VMM and tests).
RequestError check_response_header(const FrameHeader& h);

const char* frame_error_name(FrameError e);
const char* request_error_name(RequestError e);

// Walks a byte stream of requests, validating each; returns the number of
// complete valid frames, stops at the first header-level error or truncation.
// Used by the fuzz target and by tests to check stream-level behaviour.
size_t count_valid_requests(const uint8_t* buf, size_t len, FrameError& stop_reason);

}  // namespace mamori::vtpm::protocol
