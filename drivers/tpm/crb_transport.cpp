#include "drivers/tpm/crb_transport.hpp"

#include "vmm/core/tpm2_table.hpp"
#include "vtpm/crb/crb_regs.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::drivers::tpm {
namespace {
namespace crb = vtpm::crb;
namespace loc_state = vtpm::crb::loc_state;
namespace loc_ctrl = vtpm::crb::loc_ctrl;
namespace ctrl_req = vtpm::crb::ctrl_req;
namespace ctrl_sts = vtpm::crb::ctrl_sts;
using vtpm::protocol::header_size_field;
using vtpm::protocol::kTpmHeaderSize;

constexpr uint32_t kFloating = 0xFFFFFFFFu;
// The locality page's registers end where TPM_CRB_DATA_BUFFER_x starts; a
// buffer address inside them would make command bytes land on START or
// CANCEL, so such a control area is refused.
constexpr uint64_t kRegisterEnd = crb::kDataBuffer;
}  // namespace

uint64_t CrbTransport::reg(uint16_t r) const { return uint64_t{loc_} * crb::kLocalityStride + r; }

TpmError CrbTransport::request_locality() {
  const uint32_t st = mmio_.read32(reg(crb::kLocState.offset));
  if (st == kFloating || !(st & loc_state::kTpmRegValidSts)) return TpmError::NoDevice;
  auto mine = [&](uint32_t v) {
    return (v & (loc_state::kTpmRegValidSts | loc_state::kLocAssigned)) ==
               (loc_state::kTpmRegValidSts | loc_state::kLocAssigned) &&
           ((v >> loc_state::kActiveLocalityShift) & 7u) == loc_;
  };
  found_active_ = mine(st);
  if (found_active_) return TpmError::None;
  // §6.5.3.4: requestAccess; the TPM sets TPM_LOC_STS_x.Granted and
  // LOC_STATE.activeLocality. TIMEOUT_A (Table 17, locality).
  mmio_.write32(reg(crb::kLocCtrl.offset), loc_ctrl::kRequestAccess);
  bool ok = poll_until(clock_, t_.a_us, [&] {
    return (mmio_.read32(reg(crb::kLocSts.offset)) & crb::loc_sts::kGranted) &&
           mine(mmio_.read32(reg(crb::kLocState.offset)));
  });
  if (!ok) {
    mmio_.write32(reg(crb::kLocCtrl.offset), loc_ctrl::kRelinquish);  // withdraw the request
    return TpmError::LocalityTimeout;
  }
  return TpmError::None;
}

TpmError CrbTransport::read_buffers() {
  // The control area from TPM_CRB_CTRL_REQ_x on, as crb_decode_control_area
  // expects it (little-endian register images).
  uint8_t area[core::kCrbControlAreaLength];
  for (size_t i = 0; i < sizeof area; i += 4) {
    uint32_t v = mmio_.read32(reg(static_cast<uint16_t>(crb::kCtrlReq.offset + i)));
    vtpm::protocol::store_le32(area + i, v);
  }
  core::CrbBuffers b;
  if (core::crb_decode_control_area(area, sizeof area, b) != core::AcpiError::None) return TpmError::BadInterface;
  // Both buffers must hold at least a header and lie clear of this
  // locality's registers. They may sit below the base (firmware TPMs put
  // them in DRAM): offsets are taken modulo 2^64 and the MMIO side adds
  // them back to the base.
  if (b.command_size < kTpmHeaderSize || b.response_size < kTpmHeaderSize) return TpmError::BadInterface;
  const uint64_t regs_lo = base_ + reg(0), regs_hi = regs_lo + kRegisterEnd;
  auto overlaps_regs = [&](uint64_t addr, uint32_t size) { return addr < regs_hi && addr + size > regs_lo; };
  if (overlaps_regs(b.command_address, b.command_size) || overlaps_regs(b.response_address, b.response_size))
    return TpmError::BadInterface;
  cmd_off_ = b.command_address - base_;
  rsp_off_ = b.response_address - base_;
  cmd_size_ = b.command_size;
  rsp_size_ = b.response_size;
  return TpmError::None;
}

// §6.5.3.2: cmdReady moves Idle -> Ready; the TPM clears the bit when done
// and clears tpmIdle. Linux (tpm_crb.c __crb_cmd_ready) waits TIMEOUT_C.
TpmError CrbTransport::cmd_ready() {
  mmio_.write32(reg(crb::kCtrlReq.offset), ctrl_req::kCmdReady);
  bool ok = poll_until(clock_, t_.c_us, [&] {
    return !(mmio_.read32(reg(crb::kCtrlReq.offset)) & ctrl_req::kCmdReady) &&
           !(mmio_.read32(reg(crb::kCtrlSts.offset)) & ctrl_sts::kTpmIdle);
  });
  return ok ? TpmError::None : TpmError::ReadyTimeout;
}

void CrbTransport::go_idle() {
  mmio_.write32(reg(crb::kCtrlReq.offset), ctrl_req::kGoIdle);
  (void)poll_until(clock_, t_.c_us, [&] { return !(mmio_.read32(reg(crb::kCtrlReq.offset)) & ctrl_req::kGoIdle); });
}

TpmError CrbTransport::open() {
  if (TpmError e = request_locality(); e != TpmError::None) return e;
  TpmError e = read_buffers();
  if (e == TpmError::None) {
    const uint32_t s = mmio_.read32(reg(crb::kCtrlSts.offset));
    found_idle_ = (s & ctrl_sts::kTpmIdle) != 0;
    if (s & ctrl_sts::kTpmSts) e = TpmError::TpmFatal;
    else if (found_idle_) e = cmd_ready();
  }
  if (e != TpmError::None) {
    if (!found_active_) mmio_.write32(reg(crb::kLocCtrl.offset), loc_ctrl::kRelinquish);
    return e;
  }
  open_ = true;
  return TpmError::None;
}

void CrbTransport::close() {
  if (!open_) return;
  open_ = false;
  if (found_idle_) go_idle();
  if (!found_active_) mmio_.write32(reg(crb::kLocCtrl.offset), loc_ctrl::kRelinquish);
}

void CrbTransport::copy_out(uint64_t off, const uint8_t* src, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) mmio_.write32(off + i, vtpm::protocol::load_le32(src + i));
  for (; i < n; ++i) mmio_.write8(off + i, src[i]);
}

void CrbTransport::copy_in(uint64_t off, uint8_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vtpm::protocol::store_le32(dst + i, mmio_.read32(off + i));
  for (; i < n; ++i) dst[i] = mmio_.read8(off + i);
}

TpmError CrbTransport::transmit(const uint8_t* command, size_t len, uint8_t* rsp, size_t cap, size_t& rsp_len) {
  rsp_len = 0;
  if (!open_) {
    if (TpmError e = open(); e != TpmError::None) return e;
  }
  if (command == nullptr || len < kTpmHeaderSize || header_size_field(command) != len)
    return TpmError::CommandMalformed;
  if (len > cmd_size_) return TpmError::CommandTooLarge;
  const uint32_t s = mmio_.read32(reg(crb::kCtrlSts.offset));
  if (s == kFloating) return TpmError::NoDevice;
  if (s & ctrl_sts::kTpmSts) return TpmError::TpmFatal;
  if (s & ctrl_sts::kTpmIdle) {  // someone else sent it idle meanwhile
    if (TpmError e = cmd_ready(); e != TpmError::None) return e;
  }
  copy_out(cmd_off_, command, len);
  // §6.5.3.5: START = 1 hands the command over; the TPM clears START when
  // the response is in the buffer.
  mmio_.write32(reg(crb::kCtrlStart.offset), crb::kStartInvoke);
  auto started = [&] { return mmio_.read32(reg(crb::kCtrlStart.offset)) & crb::kStartInvoke; };
  if (!poll_until(clock_, t_.command_us, [&] { return !started(); })) {
    // §6.5.3.6: CANCEL = 1 asks the TPM to stop; it clears START when it
    // has; the driver clears CANCEL afterwards (TIMEOUT_B).
    mmio_.write32(reg(crb::kCtrlCancel.offset), crb::kCancelInvoke);
    (void)poll_until(clock_, t_.b_us, [&] { return !started(); });
    mmio_.write32(reg(crb::kCtrlCancel.offset), 0);
    return TpmError::CommandTimeout;
  }
  if (mmio_.read32(reg(crb::kCtrlSts.offset)) & ctrl_sts::kTpmSts) return TpmError::TpmFatal;
  if (cap < kTpmHeaderSize) return TpmError::ResponseTooLarge;
  copy_in(rsp_off_, rsp, kTpmHeaderSize);
  const uint32_t size = header_size_field(rsp);
  if (size < kTpmHeaderSize) return TpmError::ResponseMalformed;
  if (size > cap || size > rsp_size_) return TpmError::ResponseTooLarge;
  copy_in(rsp_off_ + kTpmHeaderSize, rsp + kTpmHeaderSize, size - kTpmHeaderSize);
  rsp_len = size;
  return TpmError::None;
}

}  // namespace mamori::drivers::tpm
