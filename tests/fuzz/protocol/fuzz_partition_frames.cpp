// libFuzzer target: the partition-mode frame parser (the untrusted input of
// a vtpm-service process, and what the VMM parses coming back). Any byte
// stream must be walked without overrun; every decoded header must
// re-encode to the same bytes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vtpm/protocol/frame_assembler.hpp"
#include "vtpm/protocol/partition_frame.hpp"
#include "vtpm/protocol/tpm_header.hpp"

using namespace mamori::vtpm::protocol;

namespace {

// The assembler, fed in pieces of 1..256 bytes, must find exactly the frames
// a straight walk of the stream finds, and stop where the walk stops.
void check_assembler(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const size_t piece = 1 + data[0];
  data += 1;
  size -= 1;
  static uint8_t buf[kFrameHeaderSize + 4096];
  FrameAssembler a(buf, sizeof(buf));
  size_t frames = 0;
  bool broken = false;
  for (size_t pos = 0; pos < size && !broken; pos += piece) {
    const size_t n = size - pos < piece ? size - pos : piece;
    size_t off = 0;
    while (off < n && !broken) {
      size_t used = 0;
      const auto st = a.feed(data + pos + off, n - off, used);
      off += used;
      if (st == FrameAssembler::Status::error) broken = true;
      if (st == FrameAssembler::Status::frame_ready) {
        ++frames;
        a.next();
      }
    }
  }
  // Reference walk.
  size_t ref = 0;
  size_t pos = 0;
  bool ref_broken = false;
  while (pos + kFrameHeaderSize <= size) {
    FrameHeader h{};
    if (decode_frame_header(data + pos, size - pos, h) != FrameError::none || h.length > 4096) {
      ref_broken = true;
      break;
    }
    if (h.length > size - pos - kFrameHeaderSize) break;
    pos += kFrameHeaderSize + h.length;
    ++ref;
  }
  if (frames != ref || broken != ref_broken) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_assembler(data, size);
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
