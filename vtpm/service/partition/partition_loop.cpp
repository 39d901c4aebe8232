#include "vtpm/service/partition/partition_loop.hpp"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "vtpm/service/state/blob_check.hpp"
#include "vtpm/protocol/bytes.hpp"
#include "vtpm/protocol/partition_frame.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::partition {

namespace {

using protocol::FrameHeader;
using protocol::FrameType;

// libtpms TPM_RESULT codes used in result frames (tpm_error.h).
constexpr uint32_t kResSuccess = 0;
constexpr uint32_t kResBadParameter = 3;
constexpr uint32_t kResIoError = 31;

enum class ReadStatus { ok, eof_at_start, short_read, error };

ReadStatus read_full(int fd, uint8_t* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read(fd, buf + got, n - got);
    if (r > 0) { got += static_cast<size_t>(r); continue; }
    if (r == 0) return got == 0 ? ReadStatus::eof_at_start : ReadStatus::short_read;
    if (errno == EINTR) continue;
    return ReadStatus::error;
  }
  return ReadStatus::ok;
}

bool write_full(int fd, const uint8_t* buf, size_t n) {
  size_t put = 0;
  while (put < n) {
    const ssize_t r = write(fd, buf + put, n - put);
    if (r > 0) { put += static_cast<size_t>(r); continue; }
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

class FrameWriter {
 public:
  explicit FrameWriter(int fd) : fd_(fd) {}
  // Header and payload go out in one write so a reader never sees half a frame
  // interleaved with anything else.
  bool send(FrameType type, uint8_t arg, const uint8_t* payload, size_t len) {
    out_.resize(protocol::kFrameHeaderSize + len);
    const FrameHeader h{type, arg, static_cast<uint32_t>(len)};
    protocol::encode_frame_header(h, out_.data(), out_.size());
    if (len > 0) memcpy(out_.data() + protocol::kFrameHeaderSize, payload, len);
    ok_ = ok_ && write_full(fd_, out_.data(), out_.size());
    return ok_;
  }
  bool result(FrameType request, uint32_t rc) {
    uint8_t p[4];
    protocol::store_le32(p, rc);
    return send(FrameType::result, static_cast<uint8_t>(request), p, sizeof(p));
  }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool ok_ = true;
  std::vector<uint8_t> out_;
};

// Every blob libtpms commits leaves as a state_changed frame, written here,
// inside TPMLIB_Process, i.e. before the command's response frame.
class FrameStateListener final : public engine::StateListener {
 public:
  explicit FrameStateListener(FrameWriter& w) : w_(w) {}
  uint32_t state_changed(protocol::BlobType type, const uint8_t* data, size_t len) override {
    return w_.send(FrameType::state_changed, static_cast<uint8_t>(type), data, len) ? 0 : kResIoError;
  }

 private:
  FrameWriter& w_;
};

}  // namespace

int run(engine::TpmEngine& tpm, int in_fd, int out_fd) {
  FrameWriter out(out_fd);
  FrameStateListener listener(out);
  tpm.set_listener(&listener);
  std::vector<uint8_t> payload;
  std::vector<uint8_t> rsp;
  for (;;) {
    uint8_t raw[protocol::kFrameHeaderSize];
    const ReadStatus rs = read_full(in_fd, raw, sizeof(raw));
    if (rs == ReadStatus::eof_at_start) return kExitOk;
    if (rs != ReadStatus::ok) {
      fprintf(stderr, "vtpm-service: partition: request stream ended inside a frame header\n");
      return kExitFraming;
    }
    FrameHeader h{};
    const protocol::FrameError fe = protocol::decode_frame_header(raw, sizeof(raw), h);
    if (fe != protocol::FrameError::none) {
      fprintf(stderr, "vtpm-service: partition: %s; stopping\n", protocol::frame_error_name(fe));
      out.result(static_cast<FrameType>(raw[5]), kResBadParameter);
      return kExitFraming;
    }
    payload.resize(h.length);
    if (h.length > 0 && read_full(in_fd, payload.data(), h.length) != ReadStatus::ok) {
      fprintf(stderr, "vtpm-service: partition: request stream ended inside a payload\n");
      return kExitFraming;
    }
    protocol::RequestError re = protocol::check_request_header(h);
    if (re == protocol::RequestError::none) re = protocol::check_request_payload(h, payload.data());
    if (re != protocol::RequestError::none) {
      fprintf(stderr, "vtpm-service: partition: frame type 0x%02x refused: %s\n",
              static_cast<unsigned>(h.type), protocol::request_error_name(re));
      if (!out.result(h.type, kResBadParameter)) return kExitIo;
      continue;
    }
    switch (h.type) {
      case FrameType::tpm_command: {
        uint32_t rc = tpm.running() ? tpm.execute(payload.data(), h.length, h.arg, rsp)
                                    : protocol::kTpmRcFailure;
        if (rc != 0) {
          rsp.resize(protocol::kTpmHeaderSize);
          protocol::write_error_response(rsp.data(), rsp.size(), protocol::kTpmRcFailure);
        }
        out.send(FrameType::tpm_response, 0, rsp.data(), rsp.size());
        break;
      }
      case FrameType::init:
        out.result(h.type, tpm.init((h.arg & protocol::kInitFlagDeleteVolatile) != 0));
        break;
      case FrameType::stop:
        tpm.stop();
        out.result(h.type, kResSuccess);
        break;
      case FrameType::cancel:
        out.result(h.type, tpm.cancel());
        break;
      case FrameType::get_state: {
        std::vector<uint8_t> blob;
        const auto type = static_cast<protocol::BlobType>(h.arg);
        const uint32_t rc = tpm.get_state(type, blob);
        if (rc != 0) out.result(h.type, rc);
        else out.send(FrameType::state, h.arg, blob.data(), blob.size());
        break;
      }
      case FrameType::set_state: {
        const auto type = static_cast<protocol::BlobType>(h.arg);
        if (h.length > 0) {
          const state::BlobCheck c = state::check_state_blob(type, payload.data(), h.length);
          if (c != state::BlobCheck::ok) {
            fprintf(stderr, "vtpm-service: partition: set_state refused: %s\n", state::blob_check_name(c));
          }
        }
        out.result(h.type, tpm.set_state(type, payload.data(), h.length));
        break;
      }
      case FrameType::hash_start: out.result(h.type, tpm.hash_start()); break;
      case FrameType::hash_data: out.result(h.type, tpm.hash_data(payload.data(), h.length)); break;
      case FrameType::hash_end: out.result(h.type, tpm.hash_end()); break;
      case FrameType::shutdown:
        tpm.stop();
        out.result(h.type, kResSuccess);
        tpm.set_listener(nullptr);
        return out.ok() ? kExitOk : kExitIo;
      default:
        out.result(h.type, kResBadParameter);  // unreachable: check_request_header refused it
        break;
    }
    if (!out.ok()) {
      tpm.set_listener(nullptr);
      return kExitIo;
    }
  }
}

}  // namespace mamori::vtpm::partition
