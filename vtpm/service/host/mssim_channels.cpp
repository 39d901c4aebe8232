// The Microsoft simulator's command and platform ports (ms-tpm-20-ref
// TpmTcpProtocol.h / TcpServer.c), as used by tpm2-tss's tcti-mssim.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "vtpm/service/host/io.hpp"
#include "vtpm/service/host/server.hpp"
#include "vtpm/service/wire/byte_order.hpp"
#include "vtpm/service/wire/mssim.hpp"
#include "vtpm/service/wire/tpm_header.hpp"

namespace mamori::vtpm::host {

namespace ms = wire::mssim;

namespace {

// TPM_REMOTE_HANDSHAKE: the simulator's protocol version and its flags
// (no flags: not in raw mode, no playback).
constexpr uint32_t kServerVersion = 1;
constexpr uint32_t kMaxHashTotal = 1u << 20;

bool send_u32(int fd, uint32_t v) {
  uint8_t out[4];
  wire::store_be32(out, v);
  return write_all(fd, out, sizeof(out), Deadline::after_ms(kMessageTimeoutMs)) == IoStatus::ok;
}

}  // namespace

Server::Next Server::mssim_hash_data(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t len_be[4];
  if (read_exact(fd, len_be, sizeof(len_be), d) != IoStatus::ok) return Next::close;
  uint32_t remain = wire::load_be32(len_be);
  if (remain > kMaxHashTotal) return Next::close;
  uint8_t chunk[4096];
  uint32_t rc = 0;
  while (remain > 0) {
    const uint32_t n = remain < sizeof(chunk) ? remain : static_cast<uint32_t>(sizeof(chunk));
    if (read_exact(fd, chunk, n, d) != IoStatus::ok) return Next::close;
    if (rc == 0) rc = tpm_.hash_data(chunk, n);
    remain -= n;
  }
  return send_u32(fd, rc == 0 ? ms::kAck : ms::kNack) ? Next::keep : Next::close;
}

Server::Next Server::mssim_cmd_message(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t code_be[4];
  if (read_exact(fd, code_be, sizeof(code_be), d) != IoStatus::ok) return Next::close;
  const uint32_t code = wire::load_be32(code_be);
  switch (code) {
    case ms::kSendCommand: {
      uint8_t pre[5];  // u8 locality, u32 size
      if (read_exact(fd, pre, sizeof(pre), d) != IoStatus::ok) return Next::close;
      // tcti-mssim writes this 9-byte preamble and the command separately;
      // with Nagle on its side the command waits for our ACK of the
      // preamble, which delayed ACK would hold back ~40 ms. ACK now.
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
      const uint8_t locality = pre[0];
      const uint32_t size = wire::load_be32(pre + 1);
      if (size < wire::kTpmHeaderSize || size > tpm_.max_command_size()) {
        fprintf(stderr, "vtpm-service: mssim: command size %u out of range, closing\n", size);
        return Next::close;
      }
      buf_.resize(size);
      if (read_exact(fd, buf_.data(), size, d) != IoStatus::ok) return Next::close;
      wire::TpmHeader th{};
      const auto hs = wire::parse_tpm_header(buf_.data(), size, tpm_.max_command_size(), th);
      if (hs != wire::HeaderStatus::ok || th.size != size || locality > wire::kMaxLocality) {
        // A command whose own size disagrees with its envelope is refused.
        rsp_.resize(wire::kTpmHeaderSize);
        wire::make_tpm_error_response(rsp_.data(), rsp_.size(), wire::kTpmRcCommandSize);
      } else {
        run_command(buf_.data(), size, locality, rsp_);
      }
      uint8_t len_be[4];
      wire::store_be32(len_be, static_cast<uint32_t>(rsp_.size()));
      if (write_all(fd, len_be, sizeof(len_be), d) != IoStatus::ok ||
          write_all(fd, rsp_.data(), rsp_.size(), d) != IoStatus::ok) {
        return Next::close;
      }
      return send_u32(fd, ms::kAck) ? Next::keep : Next::close;
    }
    case ms::kRemoteHandshake: {
      uint8_t client_version[4];
      if (read_exact(fd, client_version, sizeof(client_version), d) != IoStatus::ok) return Next::close;
      if (!send_u32(fd, kServerVersion) || !send_u32(fd, 0)) return Next::close;
      return send_u32(fd, ms::kAck) ? Next::keep : Next::close;
    }
    case ms::kSignalHashStart:
      return send_u32(fd, tpm_.hash_start() == 0 ? ms::kAck : ms::kNack) ? Next::keep : Next::close;
    case ms::kSignalHashData:
      return mssim_hash_data(fd);
    case ms::kSignalHashEnd:
      return send_u32(fd, tpm_.hash_end() == 0 ? ms::kAck : ms::kNack) ? Next::keep : Next::close;
    case ms::kSessionEnd:
    case ms::kStop:  // ends this client's session; one client may not stop the TPM for others
      return Next::close;
    default:
      fprintf(stderr, "vtpm-service: mssim: unknown command port code %u, closing\n", code);
      return Next::close;
  }
}

Server::Next Server::mssim_platform_message(int fd) {
  const Deadline d = Deadline::after_ms(kMessageTimeoutMs);
  uint8_t code_be[4];
  if (read_exact(fd, code_be, sizeof(code_be), d) != IoStatus::ok) return Next::close;
  const uint32_t code = wire::load_be32(code_be);
  uint32_t reply = ms::kAck;
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
      reply = tpm_.hash_start() == 0 ? ms::kAck : ms::kNack;
      break;
    case ms::kSignalHashData:
      return mssim_hash_data(fd);
    case ms::kSignalHashEnd:
      reply = tpm_.hash_end() == 0 ? ms::kAck : ms::kNack;
      break;
    case ms::kSignalPhysPresOn: case ms::kSignalPhysPresOff:
    case ms::kSignalCancelOn: case ms::kSignalCancelOff:
    case ms::kSignalNvOn: case ms::kSignalNvOff:
    case ms::kSignalKeyCacheOn: case ms::kSignalKeyCacheOff:
      break;  // NV is always available; commands run to completion (no cancel)
    case ms::kSessionEnd:
    case ms::kStop:
      return Next::close;
    default:
      fprintf(stderr, "vtpm-service: mssim: unknown platform code %u, closing\n", code);
      return Next::close;
  }
  return send_u32(fd, reply) ? Next::keep : Next::close;
}

}  // namespace mamori::vtpm::host
