// The Microsoft simulator's command and platform ports (ms-tpm-20-ref
// TpmTcpProtocol.h / TcpServer.c), as used by tpm2-tss's tcti-mssim.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "vtpm/service/host/server.hpp"
#include "vtpm/protocol/bytes.hpp"
#include "vtpm/protocol/mssim.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::host {

namespace ms = protocol::mssim;

namespace {

// TPM_REMOTE_HANDSHAKE: the simulator's protocol version and its flags
// (no flags: not in raw mode, no playback).
constexpr uint32_t kServerVersion = 1;
constexpr size_t kCode = 4;  // every message starts with a u32 code

uint32_t ack(uint32_t rc) { return rc == 0 ? ms::kAck : ms::kNack; }

}  // namespace

Server::Step Server::mssim_cmd_message(Conn& c, size_t& used) {
  if (c.in.size() < kCode) return Step::need_more;
  const uint32_t code = protocol::load_be32(c.in.data());
  switch (code) {
    case ms::kSendCommand: {
      constexpr size_t kPre = kCode + 5;  // u8 locality, u32 size
      if (c.in.size() < kPre) return Step::need_more;
      const uint8_t locality = c.in[kCode];
      const uint32_t size = protocol::load_be32(c.in.data() + kCode + 1);
      if (size < protocol::kTpmHeaderSize || size > tpm_.max_command_size()) {
        log_.log("mssim: command size %u out of range, closing", size);
        return Step::close;
      }
      if (c.in.size() < kPre + size) {
        // tcti-mssim writes this 9-byte preamble and the command separately;
        // with Nagle on its side the command waits for our ACK of the
        // preamble, which delayed ACK would hold back ~40 ms. ACK now.
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        return Step::need_more;
      }
      const uint8_t* cmd = c.in.data() + kPre;
      protocol::TpmHeader th{};
      const auto hs = protocol::parse_tpm_header(cmd, size, tpm_.max_command_size(), th);
      if (hs != protocol::HeaderStatus::ok || th.size != size || locality > protocol::kMaxLocality) {
        // A command whose own size disagrees with its envelope is refused.
        rsp_.resize(protocol::kTpmHeaderSize);
        protocol::write_error_response(rsp_.data(), rsp_.size(), protocol::kTpmRcCommandSize);
      } else {
        run_command(cmd, size, locality, rsp_);
      }
      put_u32(c, static_cast<uint32_t>(rsp_.size()));
      c.out.insert(c.out.end(), rsp_.begin(), rsp_.end());
      put_u32(c, ms::kAck);
      used = kPre + size;
      return Step::done;
    }
    case ms::kRemoteHandshake:
      if (c.in.size() < kCode + 4) return Step::need_more;  // u32 client version
      put_u32(c, kServerVersion);
      put_u32(c, 0);
      put_u32(c, ms::kAck);
      used = kCode + 4;
      return Step::done;
    case ms::kSignalHashStart:
      put_u32(c, ack(tpm_.hash_start()));
      used = kCode;
      return Step::done;
    case ms::kSignalHashData: {
      uint32_t rc = 0;
      size_t hashed = 0;
      if (!hash_data(c, kCode, hashed, rc)) return Step::close;
      if (hashed == 0) return Step::need_more;
      put_u32(c, ack(rc));
      used = kCode + hashed;
      return Step::done;
    }
    case ms::kSignalHashEnd:
      put_u32(c, ack(tpm_.hash_end()));
      used = kCode;
      return Step::done;
    case ms::kSessionEnd:
    case ms::kStop:  // ends this client's session; one client may not stop the TPM for others
      return Step::close;
    default:
      log_.log("mssim: unknown command port code %u, closing", code);
      return Step::close;
  }
}

Server::Step Server::mssim_platform_message(Conn& c, size_t& used) {
  if (c.in.size() < kCode) return Step::need_more;
  const uint32_t code = protocol::load_be32(c.in.data());
  uint32_t reply = ms::kAck;
  used = kCode;
  switch (code) {
    case ms::kSignalPowerOn:
      // tcti-mssim sends POWER_ON at every context init: a no-op while on.
      if (!tpm_.running() && tpm_.init(false) != 0) reply = ms::kNack;
      break;
    case ms::kSignalPowerOff:
      tpm_.stop();
      break;
    case ms::kSignalReset:
    case ms::kSignalRestart:
      if (tpm_.init(false) != 0) reply = ms::kNack;
      break;
    case ms::kSignalHashStart:
      reply = ack(tpm_.hash_start());
      break;
    case ms::kSignalHashData: {
      uint32_t rc = 0;
      size_t hashed = 0;
      used = 0;
      if (!hash_data(c, kCode, hashed, rc)) return Step::close;
      if (hashed == 0) return Step::need_more;
      used = kCode + hashed;
      reply = ack(rc);
      break;
    }
    case ms::kSignalHashEnd:
      reply = ack(tpm_.hash_end());
      break;
    case ms::kSignalPhysPresOn: case ms::kSignalPhysPresOff:
    case ms::kSignalCancelOn: case ms::kSignalCancelOff:
    case ms::kSignalNvOn: case ms::kSignalNvOff:
    case ms::kSignalKeyCacheOn: case ms::kSignalKeyCacheOff:
      break;  // NV is always available; commands run to completion (no cancel)
    case ms::kSessionEnd:
    case ms::kStop:
      return Step::close;
    default:
      log_.log("mssim: unknown platform code %u, closing", code);
      return Step::close;
  }
  put_u32(c, reply);
  return Step::done;
}

}  // namespace mamori::vtpm::host
