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
#include "vtpm/protocol/bytes.hpp"
#include "vtpm/protocol/swtpm_ctrl.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::host {

namespace sw = protocol::swtpm;

namespace {

constexpr uint64_t kCapabilities =
    sw::kCapInit | sw::kCapShutdown | sw::kCapGetTpmEstablished | sw::kCapSetLocality |
    sw::kCapHashing | sw::kCapCancelTpmCmd | sw::kCapStoreVolatile | sw::kCapResetTpmEstablished |
    sw::kCapGetStateBlob | sw::kCapSetStateBlob | sw::kCapStop | sw::kCapGetConfig |
    sw::kCapSetDataFd | sw::kCapSetBufferSize | sw::kCapGetInfo;

// Largest HASH_DATA total we accept; the data is streamed in kHashDataMax chunks.
constexpr uint32_t kMaxHashTotal = 1u << 20;

bool valid_blob_type(uint32_t t) { return protocol::is_blob_type(t); }

}  // namespace

// One command framed by its header size: served when all of it is here.
Server::Step Server::swtpm_data_message(Conn& c, size_t& used) {
  protocol::TpmHeader th{};
  const protocol::HeaderStatus hs = protocol::parse_tpm_header(c.in.data(), c.in.size(), tpm_.max_command_size(), th);
  if (hs == protocol::HeaderStatus::truncated) return Step::need_more;
  if (hs != protocol::HeaderStatus::ok) {
    log_.log("data channel: %s (size %u), closing", protocol::header_status_name(hs), th.size);
    // The stream cannot be re-framed after a lying size: answer, then hang up.
    uint8_t err[protocol::kTpmHeaderSize];
    protocol::write_error_response(err, sizeof(err), protocol::kTpmRcCommandSize);
    c.out.insert(c.out.end(), err, err + sizeof(err));
    return Step::close;
  }
  if (c.in.size() < th.size) return Step::need_more;
  run_command(c.in.data(), th.size, locality_, rsp_);
  c.out.insert(c.out.end(), rsp_.begin(), rsp_.end());
  used = th.size;
  return Step::done;
}

Server::Step Server::swtpm_ctrl_message(Conn& c, size_t& used) {
  if (c.in.size() < 4) return Step::need_more;
  const uint32_t cmd = protocol::load_be32(c.in.data());
  size_t fixed = 0;
  if (!sw::fixed_request_size(cmd, fixed)) {
    log_.log("control channel: unknown command 0x%08x, closing", cmd);
    put_u32(c, sw::kResBadOrdinal);
    return Step::close;  // its body length is unknown: the stream is lost
  }
  if (c.in.size() < 4 + fixed) return Step::need_more;
  const uint8_t* req = c.in.data() + 4;
  used = 4 + fixed;
  // A descriptor belongs to the CMD_SET_DATAFD it came with; any other
  // command's is closed.
  int passed_fd = c.passed_fd;
  c.passed_fd = -1;
  if (cmd != sw::kSetDataFd && passed_fd >= 0) {
    close(passed_fd);
    passed_fd = -1;
  }
  switch (cmd) {
    case sw::kGetStateBlob: return ctrl_get_stateblob(c, req);
    case sw::kSetStateBlob: {
      const uint32_t length = protocol::load_be32(req + 8);
      if (length > state::kMaxStateBlob) {
        log_.log("SET_STATEBLOB of %u bytes refused, closing", length);
        put_u32(c, sw::kResBadParameter);
        return Step::close;  // we will not read that much to resynchronise
      }
      if (c.in.size() < used + length) {
        used = 0;
        return Step::need_more;
      }
      used += length;
      return ctrl_set_stateblob(c, req, length);
    }
    case sw::kHashData: {
      size_t hashed = 0;
      uint32_t rc = tpm_.running() ? sw::kResSuccess : sw::kResBadOrdinal;
      if (!hash_data(c, 4, hashed, rc)) {
        put_u32(c, sw::kResBadParameter);
        return Step::close;
      }
      if (hashed == 0) {
        used = 0;
        return Step::need_more;
      }
      used = 4 + hashed;
      put_u32(c, rc);
      return Step::done;
    }
    case sw::kGetInfo: return ctrl_get_info(c, req);
    default: break;
  }
  if (cmd == sw::kSetLocality || cmd == sw::kResetTpmEstablished) {
    // The padding of the 4-byte union form, when it came with the request.
    const size_t pad = sw::kLocalityPaddedSize - sw::kLocalityReqSize;
    used += (c.in.size() - used) < pad ? (c.in.size() - used) : pad;
  }
  switch (cmd) {
    case sw::kGetCapability: {
      uint8_t out[8];
      protocol::store_be64(out, kCapabilities);
      c.out.insert(c.out.end(), out, out + sizeof(out));
      return Step::done;
    }
    case sw::kInit: {
      const uint32_t flags = protocol::load_be32(req);
      const uint32_t rc = tpm_.init((flags & sw::kInitFlagDeleteVolatile) != 0);
      if (rc != 0) fprintf(stderr, "vtpm-service: TPM init failed: 0x%x\n", rc);
      put_u32(c, rc);
      return Step::done;
    }
    case sw::kShutdown:
      tpm_.stop();
      put_u32(c, sw::kResSuccess);
      terminate_ = true;  // swtpm: the process ends after CMD_SHUTDOWN
      return Step::close;
    case sw::kStop:
      tpm_.stop();
      put_u32(c, sw::kResSuccess);
      return Step::done;
    case sw::kGetTpmEstablished: {
      bool bit = false;
      const uint32_t rc = tpm_.get_established(bit);
      uint8_t out[8] = {};  // ptm_est resp: result, bit, 3 bytes padding
      protocol::store_be32(out, rc);
      out[4] = bit ? 1 : 0;
      c.out.insert(c.out.end(), out, out + sizeof(out));
      return Step::done;
    }
    case sw::kResetTpmEstablished:
      put_u32(c, tpm_.reset_established(req[0]));
      return Step::done;
    case sw::kSetLocality: {
      uint32_t rc = sw::kResSuccess;
      if (req[0] > protocol::kMaxLocality) rc = sw::kResBadLocality;
      else locality_ = req[0];
      put_u32(c, rc);
      return Step::done;
    }
    case sw::kHashStart: put_u32(c, tpm_.hash_start()); return Step::done;
    case sw::kHashEnd: put_u32(c, tpm_.hash_end()); return Step::done;
    case sw::kCancelTpmCmd: put_u32(c, tpm_.cancel()); return Step::done;
    case sw::kStoreVolatile: put_u32(c, tpm_.store_volatile()); return Step::done;
    case sw::kGetConfig:
      put_u32(c, sw::kResSuccess);
      put_u32(c, has_key_ ? sw::kConfigFlagFileKey : 0);
      return Step::done;
    case sw::kSetDataFd: {
      if (data_fd_set_) {
        if (passed_fd >= 0) close(passed_fd);
        put_u32(c, sw::kResIoError);
        return Step::done;
      }
      if (passed_fd < 0) {
        put_u32(c, sw::kResBadParameter);
        return Step::done;
      }
      set_nonblocking(passed_fd);
      add_conn(passed_fd, Role::swtpm_data, true);
      data_fd_set_ = true;
      put_u32(c, sw::kResSuccess);
      return Step::done;
    }
    case sw::kSetBufferSize: {
      uint32_t size = 0, min_size = 0, max_size = 0;
      const uint32_t rc = tpm_.buffer_size(protocol::load_be32(req), size, min_size, max_size);
      put_u32(c, rc);
      if (rc != 0) return Step::done;
      put_u32(c, size);
      put_u32(c, min_size);
      put_u32(c, max_size);
      return Step::done;
    }
    default:
      put_u32(c, sw::kResBadOrdinal);
      return Step::close;
  }
}

bool Server::hash_data(const Conn& c, size_t at, size_t& used, uint32_t& rc) {
  used = 0;
  if (c.in.size() < at + 4) return true;
  const uint32_t total = protocol::load_be32(c.in.data() + at);
  if (total > kMaxHashTotal) return false;
  if (c.in.size() < at + 4 + total) return true;
  const uint8_t* data = c.in.data() + at + 4;
  for (uint32_t done = 0; done < total && rc == 0;) {
    const uint32_t n = (total - done) < sw::kHashDataMax ? (total - done) : static_cast<uint32_t>(sw::kHashDataMax);
    rc = tpm_.hash_data(data + done, n);
    done += n;
  }
  used = 4 + total;
  return true;
}

// CMD_GET_STATEBLOB: req {state_flags, type, offset}; resp {result,
// state_flags, totlength, length} followed by the blob bytes from offset
// (swtpm sends the whole remainder on a socket). We never hand out
// encrypted blobs, so state_flags is 0 whatever PTM_STATE_FLAG_DECRYPTED says.
Server::Step Server::ctrl_get_stateblob(Conn& c, const uint8_t* req) {
  const uint32_t type = protocol::load_be32(req + 4);
  const uint32_t offset = protocol::load_be32(req + 8);
  std::vector<uint8_t> blob;
  uint32_t rc = valid_blob_type(type) ? tpm_.get_state(static_cast<engine::BlobType>(type), blob)
                                      : sw::kResBadParameter;
  const uint32_t len = (rc == 0 && offset < blob.size()) ? static_cast<uint32_t>(blob.size() - offset) : 0;
  put_u32(c, rc);
  put_u32(c, 0);
  put_u32(c, len);
  put_u32(c, len);
  if (len > 0) c.out.insert(c.out.end(), blob.begin() + offset, blob.end());
  return Step::done;
}

// CMD_SET_STATEBLOB: req {state_flags, type, length} then length bytes; resp
// {result}. Only while stopped (swtpm: "TPM running" -> TPM_BAD_ORDINAL).
Server::Step Server::ctrl_set_stateblob(Conn& c, const uint8_t* req, uint32_t length) {
  const uint32_t flags = protocol::load_be32(req);
  const uint32_t type = protocol::load_be32(req + 4);
  std::vector<uint8_t> blob(req + sw::kSetStateHdrSize, req + sw::kSetStateHdrSize + length);
  uint32_t rc = sw::kResSuccess;
  if (!valid_blob_type(type)) {
    rc = sw::kResBadParameter;
  } else if ((flags & sw::kStateFlagEncrypted) != 0) {
    log_.log("SET_STATEBLOB: swtpm-encrypted blobs are not accepted");
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
        log_.log("SET_STATEBLOB: encrypted swtpm blob refused");
        rc = sw::kResBadParameter;
        break;
      case state::SwtpmBlob::malformed:
        log_.log("SET_STATEBLOB: malformed swtpm blob envelope");
        rc = sw::kResBadParameter;
        break;
      case state::SwtpmBlob::not_swtpm:
        break;
    }
  }
  if (rc == sw::kResSuccess && valid_blob_type(type)) {
    const auto bt = static_cast<engine::BlobType>(type);
    if (!blob.empty() && !tpm_.running()) {
      const state::BlobCheck chk = state::check_state_blob(bt, blob.data(), blob.size());
      if (chk != state::BlobCheck::ok) {
        log_.log("SET_STATEBLOB refused: %s", state::blob_check_name(chk));
        rc = sw::kResBadParameter;
      } else {
        const Isolated trial = validate_isolated(tpm_, bt, blob.data(), blob.size());
        if (trial != Isolated::accepted) {
          log_.log("SET_STATEBLOB refused: %s", isolated_name(trial));
          rc = sw::kResBadParameter;
        }
      }
    }
    if (rc == sw::kResSuccess) rc = tpm_.set_state(bt, blob.data(), blob.size());
  }
  put_u32(c, rc);
  return Step::done;
}

// CMD_GET_INFO: req {u64 flags, u32 offset, u32 pad}; resp {result,
// totlength, length, buffer} with libtpms' TPMLIB_GetInfo JSON.
Server::Step Server::ctrl_get_info(Conn& c, const uint8_t* req) {
  const uint64_t flags = protocol::load_be64(req);
  const uint32_t offset = protocol::load_be32(req + 8);
  char* info = TPMLIB_GetInfo(static_cast<TPMLIB_InfoFlags>(flags));
  if (info == nullptr) {
    put_u32(c, sw::kResSize);
    return Step::done;
  }
  const size_t total = strlen(info) + 1;
  if (offset >= total - 1) {
    free(info);
    put_u32(c, sw::kResBadParameter);
    return Step::done;
  }
  size_t len = total - offset;
  if (len > sw::kGetInfoSize) len = sw::kGetInfoSize;
  put_u32(c, sw::kResSuccess);
  put_u32(c, static_cast<uint32_t>(total));
  put_u32(c, static_cast<uint32_t>(len));
  c.out.insert(c.out.end(), info + offset, info + offset + len);
  free(info);
  return Step::done;
}

}  // namespace mamori::vtpm::host
