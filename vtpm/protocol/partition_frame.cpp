#include "vtpm/protocol/partition_frame.hpp"

#include "vtpm/protocol/bytes.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::protocol {

FrameError decode_frame_header(const uint8_t* buf, size_t len, FrameHeader& out) {
  if (buf == nullptr || len < kFrameHeaderSize) return FrameError::truncated;
  if (load_le32(buf) != kFrameMagic) return FrameError::bad_magic;
  if (buf[4] != kFrameVersion) return FrameError::bad_version;
  if (buf[7] != 0) return FrameError::bad_reserved;
  const uint32_t length = load_le32(buf + 8);
  if (length > kMaxFramePayload) return FrameError::too_large;
  out.type = static_cast<FrameType>(buf[5]);
  out.arg = buf[6];
  out.length = length;
  return FrameError::none;
}

size_t encode_frame_header(const FrameHeader& h, uint8_t* out, size_t cap) {
  if (out == nullptr || cap < kFrameHeaderSize) return 0;
  store_le32(out, kFrameMagic);
  out[4] = kFrameVersion;
  out[5] = static_cast<uint8_t>(h.type);
  out[6] = h.arg;
  out[7] = 0;
  store_le32(out + 8, h.length);
  return kFrameHeaderSize;
}

RequestError check_request_header(const FrameHeader& h) {
  switch (h.type) {
    case FrameType::tpm_command:
      if (h.arg > kMaxLocality) return RequestError::bad_arg;
      if (h.length < kTpmHeaderSize || h.length > kMaxTpmCommand) return RequestError::bad_length;
      return RequestError::none;
    case FrameType::init:
      if ((h.arg & ~kInitFlagDeleteVolatile) != 0) return RequestError::bad_arg;
      return h.length == 0 ? RequestError::none : RequestError::bad_length;
    case FrameType::stop:
    case FrameType::cancel:
    case FrameType::hash_start:
    case FrameType::hash_end:
    case FrameType::shutdown:
      if (h.arg != 0) return RequestError::bad_arg;
      return h.length == 0 ? RequestError::none : RequestError::bad_length;
    case FrameType::get_state:
      if (!is_blob_type(h.arg)) return RequestError::bad_arg;
      return h.length == 0 ? RequestError::none : RequestError::bad_length;
    case FrameType::set_state:
      if (!is_blob_type(h.arg)) return RequestError::bad_arg;
      return RequestError::none;  // 0..kMaxFramePayload; contents checked by the state validator
    case FrameType::hash_data:
      if (h.arg != 0) return RequestError::bad_arg;
      return h.length > 0 ? RequestError::none : RequestError::bad_length;
    default:
      return RequestError::unknown_type;
  }
}

RequestError check_request_payload(const FrameHeader& h, const uint8_t* payload) {
  if (h.type != FrameType::tpm_command) return RequestError::none;
  if (payload == nullptr) return RequestError::bad_length;
  TpmHeader th{};
  if (parse_tpm_header(payload, h.length, kMaxTpmCommand, th) != HeaderStatus::ok) {
    return RequestError::size_mismatch;
  }
  return th.size == h.length ? RequestError::none : RequestError::size_mismatch;
}

RequestError check_response_header(const FrameHeader& h) {
  switch (h.type) {
    case FrameType::tpm_response:
      if (h.arg != 0) return RequestError::bad_arg;
      if (h.length < kTpmHeaderSize || h.length > kMaxTpmCommand) return RequestError::bad_length;
      return RequestError::none;
    case FrameType::result:
      return h.length == 4 ? RequestError::none : RequestError::bad_length;
    case FrameType::state:
    case FrameType::state_changed:
      return is_blob_type(h.arg) ? RequestError::none : RequestError::bad_arg;
    default:
      return RequestError::unknown_type;
  }
}

const char* frame_error_name(FrameError e) {
  switch (e) {
    case FrameError::none: return "none";
    case FrameError::truncated: return "truncated frame header";
    case FrameError::bad_magic: return "bad frame magic";
    case FrameError::bad_version: return "unsupported frame version";
    case FrameError::bad_reserved: return "reserved header byte not zero";
    case FrameError::too_large: return "frame payload larger than the maximum";
  }
  return "?";
}

const char* request_error_name(RequestError e) {
  switch (e) {
    case RequestError::none: return "none";
    case RequestError::unknown_type: return "unknown frame type";
    case RequestError::bad_arg: return "bad frame argument";
    case RequestError::bad_length: return "bad payload length for this frame type";
    case RequestError::size_mismatch: return "TPM commandSize disagrees with the frame length";
  }
  return "?";
}

size_t count_valid_requests(const uint8_t* buf, size_t len, FrameError& stop_reason) {
  size_t pos = 0;
  size_t valid = 0;
  stop_reason = FrameError::none;
  while (pos < len) {
    FrameHeader h{};
    const FrameError fe = decode_frame_header(buf + pos, len - pos, h);
    if (fe != FrameError::none) {
      stop_reason = fe;
      return valid;
    }
    pos += kFrameHeaderSize;
    if (h.length > len - pos) {
      stop_reason = FrameError::truncated;
      return valid;
    }
    if (check_request_header(h) == RequestError::none &&
        check_request_payload(h, buf + pos) == RequestError::none) {
      ++valid;
    }
    pos += h.length;
  }
  return valid;
}

}  // namespace mamori::vtpm::protocol
