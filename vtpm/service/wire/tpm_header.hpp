// The TPM 2.0 command/response header, used to frame commands on byte
// streams. swtpm trusts one read() to hold one command; we instead read the
// 10-byte header and then exactly commandSize - 10 more bytes, so a command
// split across TCP segments, or two commands in one segment, still frame
// correctly, and a lying size is rejected before anything reaches libtpms.
#pragma once
#include <stdint.h>
#include <stddef.h>

namespace mamori::vtpm::wire {

// TPM 2.0 Part 1 §18.2 / Part 3 §5: tag (2) | commandSize (4) | commandCode (4).
inline constexpr size_t kTpmHeaderSize = 10;
// TPM 2.0 Part 2 §6.9 TPM_ST_NO_SESSIONS, used for our own error responses.
inline constexpr uint16_t kTpmStNoSessions = 0x8001;
// TPM 2.0 Part 2 §6.6.3 response codes we generate before libtpms sees a command.
inline constexpr uint32_t kTpmRcCommandSize = 0x142;  // RC_VER1 + 0x042
inline constexpr uint32_t kTpmRcFailure = 0x101;      // RC_VER1 + 0x001
inline constexpr uint32_t kTpmRcCanceled = 0x909;     // RC_WARN + 0x009

struct TpmHeader {
  uint16_t tag;
  uint32_t size;
  uint32_t code;
};

enum class HeaderStatus : uint8_t {
  ok,
  truncated,          // fewer than kTpmHeaderSize bytes available
  size_below_header,  // commandSize < 10: cannot even hold its own header
  size_above_max,     // commandSize > the buffer the TPM accepts
};

// Decodes the header in buf[0..len). max_size is the largest command the
// engine accepts (TPMLIB_SetBufferSize's current value).
HeaderStatus parse_tpm_header(const uint8_t* buf, size_t len, uint32_t max_size, TpmHeader& out);

// Writes a 10-byte TPM 2.0 error response (no sessions) carrying rc; returns
// the number of bytes written, 0 if cap is too small.
size_t make_tpm_error_response(uint8_t* out, size_t cap, uint32_t rc);

const char* header_status_name(HeaderStatus s);

}  // namespace mamori::vtpm::wire
