// Incremental reassembly of partition frames from a byte stream that arrives
// in arbitrary pieces (a pipe, or the buffers of a partition process's
// write() calls as the VMM sees them), into a caller-provided buffer: no
// allocation, so the VMM can hold one per vTPM process.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/protocol/partition_frame.hpp"

namespace mamori::vtpm::protocol {

class FrameAssembler {
 public:
  enum class Status : uint8_t { need_more, frame_ready, error };

  // buf must hold a header plus the largest payload the caller accepts.
  FrameAssembler(uint8_t* buf, size_t capacity) : buf_(buf), cap_(capacity) {}

  // Consumes bytes until a frame is complete (frame_ready), they run out
  // (need_more) or the stream is broken (error, sticky). `used` tells how
  // many bytes were consumed; feed the rest after next().
  Status feed(const uint8_t* data, size_t n, size_t& used);

  // Valid while frame_ready.
  const FrameHeader& header() const { return header_; }
  const uint8_t* payload() const { return buf_ + kFrameHeaderSize; }
  // Why the stream is broken (FrameError::too_large also when the payload
  // exceeds this assembler's capacity).
  FrameError error() const { return error_; }

  // Drops the ready frame and starts on the next one.
  void next();

 private:
  uint8_t* buf_;
  size_t cap_;
  size_t have_ = 0;
  bool header_done_ = false;
  bool ready_ = false;
  FrameHeader header_{};
  FrameError error_ = FrameError::none;
};

}  // namespace mamori::vtpm::protocol
