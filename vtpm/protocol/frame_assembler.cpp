#include "vtpm/protocol/frame_assembler.hpp"

namespace mamori::vtpm::protocol {

FrameAssembler::Status FrameAssembler::feed(const uint8_t* data, size_t n, size_t& used) {
  used = 0;
  if (error_ != FrameError::none) return Status::error;
  if (ready_) return Status::frame_ready;
  if (buf_ == nullptr || cap_ < kFrameHeaderSize) {
    error_ = FrameError::too_large;
    return Status::error;
  }
  while (used < n || (header_done_ && have_ == kFrameHeaderSize + header_.length)) {
    const size_t want = header_done_ ? kFrameHeaderSize + header_.length : kFrameHeaderSize;
    if (have_ < want) {
      const size_t take = (want - have_) < (n - used) ? (want - have_) : (n - used);
      for (size_t i = 0; i < take; ++i) buf_[have_ + i] = data[used + i];
      have_ += take;
      used += take;
      if (have_ < want) return Status::need_more;
    }
    if (!header_done_) {
      const FrameError e = decode_frame_header(buf_, have_, header_);
      if (e == FrameError::none && header_.length > cap_ - kFrameHeaderSize) error_ = FrameError::too_large;
      else error_ = e;
      if (error_ != FrameError::none) return Status::error;
      header_done_ = true;
      continue;  // an empty payload completes the frame at once
    }
    ready_ = true;
    return Status::frame_ready;
  }
  return Status::need_more;
}

void FrameAssembler::next() {
  if (!ready_) return;
  ready_ = false;
  header_done_ = false;
  have_ = 0;
}

}  // namespace mamori::vtpm::protocol
