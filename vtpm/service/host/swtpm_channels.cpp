// swtpm's data and control channels (swtpm include/swtpm/tpm_ioctl.h,
// src/swtpm/ctrlchannel.c semantics), served by the host-mode Server.
#include <libtpms/tpm_library.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vtpm/service/host/io.hpp"
#include "vtpm/service/host/isolated_validation.hpp"
#include "vtpm/service/host/server.hpp"
#include "vtpm/service/state/blob_check.hpp"
#include "vtpm/service/state/swtpm_blob.hpp"
#include "vtpm/service/wire/byte_order.hpp"
#include "vtpm/service/wire/swtpm_ctrl.hpp"
#include "vtpm/service/wire/tpm_header.hpp"

namespace mamori::vtpm::host {

namespace sw = wire::swtpm;

namespace {

constexpr uint64_t kCapabilities =
    sw::kCapInit | sw::kCapShutdown | sw::kCapGetTpmEstablished | sw::kCapSetLocality |
    sw::kCapHashing | sw::kCapCancelTpmCmd | sw::kCapStoreVolatile | sw::kCapResetTpmEstablished |
    sw::kCapGetStateBlob | sw::kCapSetStateBlob | sw::kCapStop | sw::kCapGetConfig |
    sw::kCapSetDataFd | sw::kCapSetBufferSize | sw::kCapGetInfo;

// Largest HASH_DATA total we accept; the data is streamed in kHashDataMax chunks.
constexpr uint32_t kMaxHashTotal = 1u << 20;

bool send_result(int fd, uint32_t result) {
  uint8_t out[4];
  wire::store_be32(out, result);
  return write_all(fd, out, sizeof(out), Deadline::after_ms(kMessageTimeoutMs)) == IoStatus::ok;
}

// The answer of a control command; a peer we cannot answer is dropped.
Server::Next reply_bytes(int fd, const uint8_t* out, size_t len) {
  return write_all(fd, out, len, Deadline::after_ms(kMessageTimeoutMs)) == IoStatus::ok ? Server::Next::keep
                                                                                       : Server::Next::close;
}

Server::Next reply(int fd, uint32_t result) { return send_result(fd, result) ? Server::Next::keep : Server::Next::close; }

bool valid_blob_type(uint32_t t) { return t <= 0xff && wire::is_blob_type(static_cast<uint8_t>(t)); }

}  // namespace

Server::Framed Server::read_command(Sock& s, const Deadline& d, std::vector<uint8_t>& cmd, wire::TpmHeader& th) {
  // Fills s.in to at least `need` bytes, reading whatever is available.
  auto fill = [&](size_t need) {
    uint8_t chunk[wire::kMaxTpmCommand + wire::kTpmHeaderSize];
    while (s.in.size() < need) {
      size_t got = 0;
      const IoStatus st = read_some(s.fd, chunk, sizeof(chunk), d, got);
      if (st != IoStatus::ok) return false;
      s.in.insert(s.in.end(), chunk, chunk + got);
    }
    return true;
  };
  if (!fill(wire::kTpmHeaderSize)) return Framed::closed;  // EOF between commands is the normal end
  const wire::HeaderStatus hs = wire::parse_tpm_header(s.in.data(), s.in.size(), tpm_.max_command_size(), th);
  if (hs != wire::HeaderStatus::ok) {
    fprintf(stderr, "vtpm-service: data channel: %s (size %u), closing\n", wire::header_status_name(hs), th.size);
    return Framed::bad_header;
  }
  if (!fill(th.size)) {
    fprintf(stderr, "vtpm-service: data channel: command body incomplete, closing\n");
    return Framed::closed;
  }
  cmd.assign(s.in.begin(), s.in.begin() + th.size);
  s.in.erase(s.in.begin(), s.in.begin() + th.size);
  return Framed::ok;
}

Server::Next Server::swtpm_data_message(Sock& s) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  wire::TpmHeader th{};
  switch (read_command(s, d, buf_, th)) {
    case Framed::closed:
      return Next::close;
    case Framed::bad_header: {
      // The stream cannot be re-framed after a lying size: answer, then hang up.
      uint8_t err[wire::kTpmHeaderSize];
      wire::make_tpm_error_response(err, sizeof(err), wire::kTpmRcCommandSize);
      write_all(s.fd, err, sizeof(err), d);
      return Next::close;
    }
    case Framed::ok:
      break;
  }
  run_command(buf_.data(), th.size, locality_, rsp_);
  return write_all(s.fd, rsp_.data(), rsp_.size(), d) == IoStatus::ok ? Next::keep : Next::close;
}

Server::Next Server::swtpm_ctrl_message(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t cmd_be[4];
  int passed_fd = -1;
  if (recv_exact_with_fd(fd, cmd_be, sizeof(cmd_be), d, &passed_fd) != IoStatus::ok) {
    if (passed_fd >= 0) close(passed_fd);
    return Next::close;
  }
  const uint32_t cmd = wire::load_be32(cmd_be);
  if (cmd != sw::kSetDataFd && passed_fd >= 0) {
    close(passed_fd);
    passed_fd = -1;
  }
  size_t fixed = 0;
  if (!sw::fixed_request_size(cmd, fixed)) {
    fprintf(stderr, "vtpm-service: control channel: unknown command 0x%08x, closing\n", cmd);
    send_result(fd, sw::kResBadOrdinal);
    return Next::close;  // its body length is unknown: the stream is lost
  }
  // Variable-length commands read their own bodies.
  switch (cmd) {
    case sw::kGetStateBlob: return ctrl_get_stateblob(fd);
    case sw::kSetStateBlob: return ctrl_set_stateblob(fd);
    case sw::kHashData: return ctrl_hash_data(fd);
    case sw::kGetInfo: return ctrl_get_info(fd);
    default: break;
  }
  uint8_t req[8] = {};
  if (fixed > 0 && read_exact(fd, req, fixed, d) != IoStatus::ok) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  if (cmd == sw::kSetLocality || cmd == sw::kResetTpmEstablished) {
    drain_available(fd, sw::kLocalityPaddedSize - sw::kLocalityReqSize);
  }
  switch (cmd) {
    case sw::kGetCapability: {
      uint8_t out[8];
      wire::store_be64(out, kCapabilities);
      return reply_bytes(fd, out, sizeof(out));
    }
    case sw::kInit: {
      const uint32_t flags = wire::load_be32(req);
      const uint32_t rc = tpm_.init((flags & sw::kInitFlagDeleteVolatile) != 0);
      if (rc != 0) fprintf(stderr, "vtpm-service: TPM init failed: 0x%x\n", rc);
      return reply(fd, rc);
    }
    case sw::kShutdown:
      tpm_.stop();
      send_result(fd, sw::kResSuccess);
      terminate_ = true;  // swtpm: the process ends after CMD_SHUTDOWN
      return Next::close;
    case sw::kStop:
      tpm_.stop();
      return reply(fd, sw::kResSuccess);
    case sw::kGetTpmEstablished: {
      bool bit = false;
      const uint32_t rc = tpm_.get_established(bit);
      uint8_t out[8] = {};  // ptm_est resp: result, bit, 3 bytes padding
      wire::store_be32(out, rc);
      out[4] = bit ? 1 : 0;
      return reply_bytes(fd, out, sizeof(out));
    }
    case sw::kResetTpmEstablished:
      return reply(fd, tpm_.reset_established(req[0]));
    case sw::kSetLocality: {
      uint32_t rc = sw::kResSuccess;
      if (req[0] > wire::kMaxLocality) rc = sw::kResBadLocality;
      else locality_ = req[0];
      return reply(fd, rc);
    }
    case sw::kHashStart: return reply(fd, tpm_.hash_start());
    case sw::kHashEnd: return reply(fd, tpm_.hash_end());
    case sw::kCancelTpmCmd: return reply(fd, tpm_.cancel());
    case sw::kStoreVolatile: return reply(fd, tpm_.store_volatile());
    case sw::kGetConfig: {
      uint8_t out[8];
      wire::store_be32(out, sw::kResSuccess);
      wire::store_be32(out + 4, has_key_ ? sw::kConfigFlagFileKey : 0);
      return reply_bytes(fd, out, sizeof(out));
    }
    case sw::kSetDataFd: {
      if (data_fd_set_) {
        if (passed_fd >= 0) close(passed_fd);
        return reply(fd, sw::kResIoError);
      }
      if (passed_fd < 0) return reply(fd, sw::kResBadParameter);
      set_nonblocking(passed_fd);
      add_sock(passed_fd, Role::swtpm_data, true);
      data_fd_set_ = true;
      return reply(fd, sw::kResSuccess);
    }
    case sw::kSetBufferSize: {
      uint32_t size = 0, min_size = 0, max_size = 0;
      const uint32_t rc = tpm_.buffer_size(wire::load_be32(req), size, min_size, max_size);
      if (rc != 0) return reply(fd, rc);
      uint8_t out[16];
      wire::store_be32(out, sw::kResSuccess);
      wire::store_be32(out + 4, size);
      wire::store_be32(out + 8, min_size);
      wire::store_be32(out + 12, max_size);
      return reply_bytes(fd, out, sizeof(out));
    }
    default:
      send_result(fd, sw::kResBadOrdinal);
      return Next::close;
  }
}

// CMD_GET_STATEBLOB: req {state_flags, type, offset}; resp {result,
// state_flags, totlength, length} followed by the blob bytes from offset
// (swtpm sends the whole remainder on a socket). We never hand out
// encrypted blobs, so state_flags is 0 whatever PTM_STATE_FLAG_DECRYPTED says.
Server::Next Server::ctrl_get_stateblob(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t req[sw::kGetStateReqSize];
  if (read_exact(fd, req, sizeof(req), d) != IoStatus::ok) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  const uint32_t type = wire::load_be32(req + 4);
  const uint32_t offset = wire::load_be32(req + 8);
  std::vector<uint8_t> blob;
  uint32_t rc = valid_blob_type(type) ? tpm_.get_state(static_cast<engine::BlobType>(type), blob)
                                      : sw::kResBadParameter;
  const uint32_t len = (rc == 0 && offset < blob.size()) ? static_cast<uint32_t>(blob.size() - offset) : 0;
  uint8_t hdr[sw::kGetStateRespHdrSize];
  wire::store_be32(hdr, rc);
  wire::store_be32(hdr + 4, 0);
  wire::store_be32(hdr + 8, len);
  wire::store_be32(hdr + 12, len);
  if (write_all(fd, hdr, sizeof(hdr), d) != IoStatus::ok) return Next::close;
  if (len > 0 && write_all(fd, blob.data() + offset, len, Deadline::after_ms(kMessageTimeoutMs)) != IoStatus::ok) {
    return Next::close;
  }
  return Next::keep;
}

// CMD_SET_STATEBLOB: req {state_flags, type, length} then length bytes; resp
// {result}. Only while stopped (swtpm: "TPM running" -> TPM_BAD_ORDINAL).
Server::Next Server::ctrl_set_stateblob(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t req[sw::kSetStateHdrSize];
  if (read_exact(fd, req, sizeof(req), d) != IoStatus::ok) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  const uint32_t flags = wire::load_be32(req);
  const uint32_t type = wire::load_be32(req + 4);
  const uint32_t length = wire::load_be32(req + 8);
  if (length > state::kMaxStateBlob) {
    fprintf(stderr, "vtpm-service: SET_STATEBLOB of %u bytes refused, closing\n", length);
    send_result(fd, sw::kResBadParameter);
    return Next::close;  // we will not read that much to resynchronise
  }
  std::vector<uint8_t> blob(length);
  if (length > 0 && read_exact(fd, blob.data(), length, d) != IoStatus::ok) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  uint32_t rc = sw::kResSuccess;
  if (!valid_blob_type(type)) {
    rc = sw::kResBadParameter;
  } else if ((flags & sw::kStateFlagEncrypted) != 0) {
    fprintf(stderr, "vtpm-service: SET_STATEBLOB: swtpm-encrypted blobs are not accepted\n");
    rc = sw::kResBadParameter;
  } else {
    // A blob exported by swtpm comes in swtpm's envelope: take the libtpms
    // blob out of it (state/swtpm_blob.hpp).
    const uint8_t* inner = nullptr;
    size_t inner_len = 0;
    switch (state::unwrap_swtpm_blob(blob.data(), blob.size(), &inner, &inner_len)) {
      case state::SwtpmBlob::unwrapped:
        blob = std::vector<uint8_t>(inner, inner + inner_len);
        break;
      case state::SwtpmBlob::encrypted:
        fprintf(stderr, "vtpm-service: SET_STATEBLOB: encrypted swtpm blob refused\n");
        rc = sw::kResBadParameter;
        break;
      case state::SwtpmBlob::malformed:
        fprintf(stderr, "vtpm-service: SET_STATEBLOB: malformed swtpm blob envelope\n");
        rc = sw::kResBadParameter;
        break;
      case state::SwtpmBlob::not_swtpm:
        break;
    }
  }
  if (rc == sw::kResSuccess && valid_blob_type(type)) {
    const auto bt = static_cast<engine::BlobType>(type);
    if (!blob.empty() && !tpm_.running()) {
      const state::BlobCheck c = state::check_state_blob(bt, blob.data(), blob.size());
      if (c != state::BlobCheck::ok) {
        fprintf(stderr, "vtpm-service: SET_STATEBLOB refused: %s\n", state::blob_check_name(c));
        rc = sw::kResBadParameter;
      } else {
        const Isolated trial = validate_isolated(tpm_, bt, blob.data(), blob.size());
        if (trial != Isolated::accepted) {
          fprintf(stderr, "vtpm-service: SET_STATEBLOB refused: %s\n", isolated_name(trial));
          rc = sw::kResBadParameter;
        }
      }
    }
    if (rc == sw::kResSuccess) rc = tpm_.set_state(bt, blob.data(), blob.size());
  }
  return reply(fd, rc);
}

// CMD_HASH_DATA: req {length} then length bytes, hashed in chunks.
Server::Next Server::ctrl_hash_data(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t req[sw::kHashDataHdrSize];
  if (read_exact(fd, req, sizeof(req), d) != IoStatus::ok) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  uint32_t remain = wire::load_be32(req);
  if (remain > kMaxHashTotal) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  uint8_t chunk[sw::kHashDataMax];
  uint32_t rc = tpm_.running() ? sw::kResSuccess : sw::kResBadOrdinal;
  while (remain > 0) {
    const uint32_t n = remain < sizeof(chunk) ? remain : static_cast<uint32_t>(sizeof(chunk));
    if (read_exact(fd, chunk, n, d) != IoStatus::ok) {
      send_result(fd, sw::kResIoError);
      return Next::close;
    }
    if (rc == sw::kResSuccess) rc = tpm_.hash_data(chunk, n);
    remain -= n;
  }
  return reply(fd, rc);
}

// CMD_GET_INFO: req {u64 flags, u32 offset, u32 pad}; resp {result,
// totlength, length, buffer} with libtpms' TPMLIB_GetInfo JSON.
Server::Next Server::ctrl_get_info(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t req[sw::kGetInfoReqSize];
  if (read_exact(fd, req, sizeof(req), d) != IoStatus::ok) {
    send_result(fd, sw::kResBadParameter);
    return Next::close;
  }
  const uint64_t flags = wire::load_be64(req);
  const uint32_t offset = wire::load_be32(req + 8);
  char* info = TPMLIB_GetInfo(static_cast<TPMLIB_InfoFlags>(flags));
  if (info == nullptr) return reply(fd, sw::kResSize);
  const size_t total = strlen(info) + 1;
  if (offset >= total - 1) {
    free(info);
    return reply(fd, sw::kResBadParameter);
  }
  size_t len = total - offset;
  if (len > sw::kGetInfoSize) len = sw::kGetInfoSize;
  std::vector<uint8_t> out(12 + len);
  wire::store_be32(out.data(), sw::kResSuccess);
  wire::store_be32(out.data() + 4, static_cast<uint32_t>(total));
  wire::store_be32(out.data() + 8, static_cast<uint32_t>(len));
  memcpy(out.data() + 12, info + offset, len);
  free(info);
  return reply_bytes(fd, out.data(), out.size());
}

}  // namespace mamori::vtpm::host
