#include "drivers/tpm/tis_transport.hpp"

#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/tis/tis_regs.hpp"

namespace mamori::drivers::tpm {
namespace {
namespace regs = vtpm::tis;
namespace access = vtpm::tis::access;
namespace sts = vtpm::tis::sts;
using vtpm::protocol::header_size_field;
using vtpm::protocol::kTpmHeaderSize;

constexpr uint32_t kFloating = 0xFFFFFFFFu;

uint32_t burst_of(uint32_t s) { return (s >> sts::kBurstCountShift) & sts::kBurstCountMax; }

// The STS command bits are written as single bytes, as Linux's tpm_tis
// does (tpm_tis_write8): a 32-bit write would also write the burstCount
// bytes, which some chips do not take kindly. commandCancel is bit 24,
// i.e. bit 0 of byte 3.
constexpr uint16_t kStsCancelByte = vtpm::tis::kSts.offset + 3;
constexpr uint8_t kCancelInByte = static_cast<uint8_t>(sts::kCommandCancel >> 24);
}  // namespace

uint64_t TisTransport::reg(uint16_t r) const { return uint64_t{loc_} * regs::kLocalityStride + r; }

uint32_t TisTransport::sts() { return mmio_.read32(reg(regs::kSts.offset)); }

TpmError TisTransport::wait_sts(uint32_t mask, uint32_t value, uint64_t timeout_us, TpmError on_timeout) {
  bool floating = false;
  bool ok = poll_until(clock_, timeout_us, [&] {
    uint32_t s = sts();
    floating = s == kFloating;  // a removed/unmapped device: every bit "set"
    return !floating && (s & mask) == value;
  });
  if (ok) return TpmError::None;
  return floating ? TpmError::NoDevice : on_timeout;
}

// PTP §5.5.2.5: burstCount is how many bytes the FIFO takes or holds
// without wait states; 0 means "wait". Linux (tpm_tis_core.c
// get_burstcount) waits TIMEOUT_A for TPM 2.0; so does this.
TpmError TisTransport::burst(uint32_t& out) {
  out = 0;
  bool floating = false;
  bool ok = poll_until(clock_, t_.a_us, [&] {
    uint32_t s = sts();
    floating = s == kFloating;
    out = floating ? 0 : burst_of(s);
    return out != 0;
  });
  if (ok) return TpmError::None;
  return floating ? TpmError::NoDevice : TpmError::BurstCountTimeout;
}

TpmError TisTransport::open() {
  const uint8_t a = mmio_.read8(reg(regs::kAccess.offset));
  if (a == 0xFF || !(a & access::kTpmRegValidSts)) return TpmError::NoDevice;
  found_active_ = (a & access::kActiveLocality) != 0;
  if (!found_active_) {
    // §5.5.2.3: write requestUse, the TPM grants when no other locality is
    // active (or when it is relinquished); activeLocality then reads 1.
    mmio_.write8(reg(regs::kAccess.offset), access::kRequestUse);
    bool ok = poll_until(clock_, t_.a_us, [&] {
      uint8_t v = mmio_.read8(reg(regs::kAccess.offset));
      return (v & (access::kTpmRegValidSts | access::kActiveLocality)) ==
             (access::kTpmRegValidSts | access::kActiveLocality);
    });
    if (!ok) {
      // Withdraw the request so it is not granted behind our back later.
      mmio_.write8(reg(regs::kAccess.offset), access::kActiveLocality);
      return TpmError::LocalityTimeout;
    }
  }
  open_ = true;
  return TpmError::None;
}

void TisTransport::close() {
  if (!open_) return;
  open_ = false;
  // Writing activeLocality = 1 relinquishes (§5.5.2.3); only a locality
  // this driver requested is given back.
  if (!found_active_) mmio_.write8(reg(regs::kAccess.offset), access::kActiveLocality);
}

// Table 30: commandReady from Idle (or Completion) moves to Ready; written
// during Reception/Execution it aborts the command. TIMEOUT_B bounds it.
TpmError TisTransport::ready() {
  uint32_t s = sts();
  if (s == kFloating) return TpmError::NoDevice;
  if (s & sts::kCommandReady) return TpmError::None;
  mmio_.write8(reg(regs::kSts.offset), sts::kCommandReady);
  return wait_sts(sts::kCommandReady, sts::kCommandReady, t_.b_us, TpmError::ReadyTimeout);
}

void TisTransport::abort() { mmio_.write8(reg(regs::kSts.offset), sts::kCommandReady); }

// §5.5.2.7: all bytes but the last in burstCount chunks, Expect must stay
// set; after the last byte stsValid with Expect clear (the TPM counted the
// header's commandSize bytes). Like Linux's tpm_tis_send_data.
TpmError TisTransport::send(const uint8_t* command, size_t len) {
  const uint64_t fifo = reg(regs::kDataFifo.offset);
  size_t pos = 0;
  while (pos < len - 1) {
    uint32_t n = 0;
    if (TpmError e = burst(n); e != TpmError::None) return e;
    size_t chunk = n < len - 1 - pos ? n : len - 1 - pos;
    for (size_t i = 0; i < chunk; ++i) mmio_.write8(fifo, command[pos + i]);
    pos += chunk;
    if (TpmError e = wait_sts(sts::kStsValid, sts::kStsValid, t_.c_us, TpmError::StsValidTimeout); e != TpmError::None)
      return e;
    if (!(sts() & sts::kExpect)) return TpmError::ExpectMismatch;  // TPM thinks the command ended early
  }
  mmio_.write8(fifo, command[pos]);
  if (TpmError e = wait_sts(sts::kStsValid, sts::kStsValid, t_.c_us, TpmError::StsValidTimeout); e != TpmError::None)
    return e;
  if (sts() & sts::kExpect) return TpmError::ExpectMismatch;  // TPM wants more than commandSize
  return TpmError::None;
}

TpmError TisTransport::read_fifo(uint8_t* dst, size_t n) {
  const uint64_t fifo = reg(regs::kDataFifo.offset);
  size_t pos = 0;
  while (pos < n) {
    // dataAvail (valid with stsValid) says response bytes remain
    // (§5.5.2.5); a TPM that stops offering them before the size field's
    // count has sent a short response.
    if (TpmError e = wait_sts(sts::kStsValid, sts::kStsValid, t_.c_us, TpmError::StsValidTimeout); e != TpmError::None)
      return e;
    if (!(sts() & sts::kDataAvail)) return TpmError::ResponseShort;
    uint32_t b = 0;
    if (TpmError e = burst(b); e != TpmError::None) return e;
    size_t chunk = b < n - pos ? b : n - pos;
    for (size_t i = 0; i < chunk; ++i) dst[pos + i] = mmio_.read8(fifo);
    pos += chunk;
  }
  return TpmError::None;
}

TpmError TisTransport::receive(uint8_t* rsp, size_t cap, size_t& rsp_len) {
  if (cap < kTpmHeaderSize) return TpmError::ResponseTooLarge;
  if (TpmError e = read_fifo(rsp, kTpmHeaderSize); e != TpmError::None) return e;
  const uint32_t size = header_size_field(rsp);
  if (size < kTpmHeaderSize) return TpmError::ResponseMalformed;
  if (size > cap) return TpmError::ResponseTooLarge;
  if (TpmError e = read_fifo(rsp + kTpmHeaderSize, size - kTpmHeaderSize); e != TpmError::None) return e;
  if (TpmError e = wait_sts(sts::kStsValid, sts::kStsValid, t_.c_us, TpmError::StsValidTimeout); e != TpmError::None)
    return e;
  if (sts() & sts::kDataAvail) return TpmError::ResponseOverrun;  // more bytes than it declared
  rsp_len = size;
  return TpmError::None;
}

TpmError TisTransport::transmit(const uint8_t* command, size_t len, uint8_t* rsp, size_t cap, size_t& rsp_len) {
  rsp_len = 0;
  if (!open_) {
    if (TpmError e = open(); e != TpmError::None) return e;
  }
  if (command == nullptr || len < kTpmHeaderSize || header_size_field(command) != len)
    return TpmError::CommandMalformed;
  if (TpmError e = ready(); e != TpmError::None) return e;
  // In Ready, burstCount is what the FIFO accepts; a command larger than
  // the TPM's buffer is caught by the Expect check in send().
  TpmError e = send(command, len);
  if (e == TpmError::None) {
    mmio_.write8(reg(regs::kSts.offset), sts::kTpmGo);
    e = wait_sts(sts::kStsValid | sts::kDataAvail, sts::kStsValid | sts::kDataAvail, t_.command_us,
                 TpmError::CommandTimeout);
    if (e == TpmError::CommandTimeout) {
      // §5.5.2.5 commandCancel: ask the TPM to stop, give it TIMEOUT_B to
      // offer its (TPM_RC_CANCELED) response, then abort with commandReady.
      mmio_.write8(reg(kStsCancelByte), kCancelInByte);
      (void)wait_sts(sts::kStsValid | sts::kDataAvail, sts::kStsValid | sts::kDataAvail, t_.b_us,
                     TpmError::CommandTimeout);
    }
    if (e == TpmError::None) e = receive(rsp, cap, rsp_len);
  }
  // Back to Ready/Idle: after a complete response this ends the command
  // (Completion -> Ready); after a failure it aborts it (Table 30).
  if (e != TpmError::NoDevice) abort();
  if (e != TpmError::None) rsp_len = 0;
  return e;
}

}  // namespace mamori::drivers::tpm
