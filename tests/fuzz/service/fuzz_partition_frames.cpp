// libFuzzer target: the partition-mode frame parser (the untrusted input of
// a vtpm-service process, and what the VMM parses coming back). Any byte
// stream must be walked without overrun; every decoded header must
// re-encode to the same bytes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vtpm/service/wire/partition_frame.hpp"
#include "vtpm/service/wire/tpm_header.hpp"

using namespace mamori::vtpm::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FrameError why = FrameError::none;
  (void)count_valid_requests(data, size, why);
  FrameHeader h{};
  if (decode_frame_header(data, size, h) == FrameError::none) {
    uint8_t again[kFrameHeaderSize];
    encode_frame_header(h, again, sizeof(again));
    if (memcmp(again, data, kFrameHeaderSize) != 0) __builtin_trap();
    const size_t avail = size - kFrameHeaderSize;
    if (check_request_header(h) == RequestError::none && h.length <= avail) {
      (void)check_request_payload(h, data + kFrameHeaderSize);
    }
    (void)check_response_header(h);
  }
  TpmHeader th{};
  if (parse_tpm_header(data, size, kMaxTpmCommand, th) == HeaderStatus::ok) {
    if (th.size < kTpmHeaderSize || th.size > kMaxTpmCommand) __builtin_trap();
  }
  return 0;
}
