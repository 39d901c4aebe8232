#include "vtpm/crb/crb_device.hpp"

#include <string.h>

#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::crb {

using namespace protocol;  // TPM header and error responses

namespace {

constexpr Reg kRegs[] = {kLocState, kLocCtrl, kLocSts,   kIntfId,   kCtrlExt,  kCtrlReq,
                         kCtrlSts,  kCtrlCancel, kCtrlStart, kIntEnable, kIntSts, kCmdSize,
                         kCmdLaddr, kCmdHaddr, kRspSize, kRspAddr};

// Registers visible at every locality (PTP: locality and interface
// identification registers); the others belong to the active locality.
bool is_locality_register(uint16_t base) {
  return base == kLocState.offset || base == kLocCtrl.offset || base == kLocSts.offset ||
         base == kIntfId.offset;
}

// Where an access of `size` bytes at `reg` (offset in a locality page) lands.
struct Target {
  enum Kind { Register, Reserved, Buffer, Crossing } kind;
  uint16_t base;  // Register: the register's offset
  uint8_t width;  // Register: its width
};

Target classify(uint16_t reg, uint8_t size) {
  const uint32_t end = uint32_t{reg} + size;
  if (end > kLocalityStride) return {Target::Crossing, 0, 0};  // into the next page
  if (reg >= kDataBuffer) return {Target::Buffer, 0, 0};
  if (end > kDataBuffer) return {Target::Crossing, 0, 0};  // control area into buffer
  for (const Reg& r : kRegs) {
    if (reg >= r.offset && reg < r.offset + r.width) {
      if (end > uint32_t{r.offset} + r.width) return {Target::Crossing, 0, 0};
      return {Target::Register, r.offset, r.width};
    }
    if (reg < r.offset && end > r.offset) return {Target::Crossing, 0, 0};  // reserved into a register
  }
  return {Target::Reserved, 0, 0};
}

}  // namespace

CrbDevice::CrbDevice(TpmBackend& backend, InterruptSink* irq, const CrbConfig& config)
    : backend_(backend), irq_(irq), config_(config) {}

void CrbDevice::reset() {
  slot_.reset(backend_);
  arbiter_.reset();
  state_ = CrbState::Idle;
  go_idle_pending_ = false;
  cancel_ = 0;
  int_enable_ = int_status_ = 0;
  update_irq();
}

uint64_t CrbDevice::mmio_read(uint64_t offset, uint8_t size) {
  ++stats_.reads;
  WindowAccess w;
  if (!split_window_access(offset, size, w)) {
    ++stats_.rejected;
    return all_ones(size);
  }
  const uint8_t loc = w.locality;
  const uint16_t reg = w.reg;
  const Target t = classify(reg, size);
  if (t.kind == Target::Crossing) {
    ++stats_.rejected;
    return all_ones(size);
  }
  if (!reachable(loc)) return all_ones(size);
  switch (t.kind) {
    case Target::Reserved:
      return 0;  // reserved control-area space reads 0 (as QEMU)
    case Target::Buffer: {
      if (separate_buffer()) return 0;  // reserved: the buffer lives in its own page
      // The buffer is valid only for the active locality and outside Idle
      // (PTP: in Idle the TPM may power the buffer down).
      if (!arbiter_.is_active(loc) || state_ == CrbState::Idle) return all_ones(size);
      uint64_t v = 0;
      memcpy(&v, page_ + (reg - kDataBuffer), size);  // little-endian guest view
      return v;
    }
    default: {
      if (!is_locality_register(t.base) && !arbiter_.is_active(loc)) return all_ones(size);
      const uint64_t v = read_register(loc, t.base) >> (8 * (reg - t.base));
      return v & size_mask(size);
    }
  }
}

void CrbDevice::mmio_write(uint64_t offset, uint8_t size, uint64_t value) {
  ++stats_.writes;
  WindowAccess w;
  if (!split_window_access(offset, size, w)) {
    ++stats_.rejected;
    return;
  }
  const uint8_t loc = w.locality;
  const uint16_t reg = w.reg;
  const Target t = classify(reg, size);
  if (t.kind == Target::Crossing) {
    ++stats_.rejected;
    return;
  }
  if (!reachable(loc) || t.kind == Target::Reserved) return;
  if (t.kind == Target::Buffer) {
    // The command may be written in Ready and Completion (the next command
    // overwrites the last response); never while the engine reads it.
    if (separate_buffer() || !arbiter_.is_active(loc) || state_ == CrbState::Idle ||
        state_ == CrbState::Execution) {
      return;
    }
    memcpy(page_ + (reg - kDataBuffer), &value, size);
    return;
  }
  if (t.width == 8) return;  // 64-bit registers (INTF_ID, CTRL_EXT, RSP_ADDR) are read-only here
  const uint32_t lanes = static_cast<uint32_t>((value & size_mask(size)) << (8 * (reg - t.base)));
  if (t.base == kLocCtrl.offset) {
    write_loc_ctrl(loc, lanes);
  } else if (arbiter_.is_active(loc)) {
    write_register(loc, t.base, lanes);
  }
}

uint64_t CrbDevice::read_register(uint8_t loc, uint16_t base) const {
  switch (base) {
    case kLocState.offset: {
      uint32_t v = loc_state::kTpmRegValidSts;
      if (!config_.established) v |= loc_state::kTpmEstablished;
      if (arbiter_.active() != kNoLocality) {
        v |= loc_state::kLocAssigned | (uint32_t{arbiter_.active()} << loc_state::kActiveLocalityShift);
      }
      return v;
    }
    case kLocCtrl.offset:
      return 0;  // write-only
    case kLocSts.offset:
      return (arbiter_.is_active(loc) ? loc_sts::kGranted : 0) |
             (arbiter_.been_seized(loc) ? loc_sts::kBeenSeized : 0);
    case kIntfId.offset:
      return intf_id::kTypeCrb | intf_id::kVersionCrb | intf_id::kCapLocality | intf_id::kCapDataXfer64 |
             intf_id::kCapCrb | intf_id::kSelectorCrb | intf_id::kIntfSelLock |
             (uint64_t{config_.rid} << intf_id::kRidShift) |
             (uint64_t{config_.vendor_id} << intf_id::kVidShift) |
             (uint64_t{config_.device_id} << intf_id::kDidShift);
    case kCtrlReq.offset:
      return go_idle_pending_ ? ctrl_req::kGoIdle : 0;
    case kCtrlSts.offset:
      return state_ == CrbState::Idle ? ctrl_sts::kTpmIdle : 0;
    case kCtrlCancel.offset:
      return cancel_;
    case kCtrlStart.offset:
      return state_ == CrbState::Execution ? kStartInvoke : 0;
    case kIntEnable.offset:
      return int_enable_;
    case kIntSts.offset:
      return int_status_;
    case kCmdSize.offset:
    case kRspSize.offset:
      return buffer_size();
    case kCmdLaddr.offset:
      return buffer_gpa() & 0xFFFFFFFFu;
    case kCmdHaddr.offset:
      return buffer_gpa() >> 32;
    case kRspAddr.offset:
      return buffer_gpa();
    default:
      return 0;  // CTRL_EXT: no extended control
  }
}

void CrbDevice::write_register(uint8_t, uint16_t base, uint32_t value) {
  switch (base) {
    case kCtrlReq.offset:
      write_ctrl_req(value);
      break;
    case kCtrlCancel.offset:
      cancel_ = value & kCancelInvoke;
      if (cancel_ && state_ == CrbState::Execution && slot_.running_current()) {
        backend_.cancel(slot_.current());
      }
      break;
    case kCtrlStart.offset:
      // PTP: software writes 1 to start; writing 0 has no effect. START in
      // Idle is ignored (no CapCRBIdleBypass).
      if ((value & kStartInvoke) && (state_ == CrbState::Ready || state_ == CrbState::Completion)) start();
      break;
    case kIntEnable.offset:
      int_enable_ = value & intr::kEnableWritable;
      update_irq();
      break;
    case kIntSts.offset:
      int_status_ &= ~(value & intr::kEventMask);
      update_irq();
      break;
    default:
      break;  // read-only: LOC_STATE, LOC_STS, CTRL_STS, sizes, addresses
  }
}

void CrbDevice::write_loc_ctrl(uint8_t loc, uint32_t value) {
  constexpr uint32_t kActions =
      loc_ctrl::kRequestAccess | loc_ctrl::kRelinquish | loc_ctrl::kSeize | loc_ctrl::kResetEstablishment;
  const uint32_t a = value & kActions;
  if (a == 0 || (a & (a - 1)) != 0) return;  // one action per write, as in TPM_ACCESS_x
  switch (a) {
    case loc_ctrl::kRequestAccess:
      on_locality_change(arbiter_.request(loc));
      break;
    case loc_ctrl::kRelinquish:
      on_locality_change(arbiter_.relinquish(loc));
      break;
    case loc_ctrl::kSeize:
      on_locality_change(arbiter_.seize(loc));
      break;
    case loc_ctrl::kResetEstablishment:
      // PTP: honoured only from localities 3 and 4.
      if (loc >= 3 && config_.established) {
        config_.established = false;
        raise(intr::kEstablishmentClear);
      }
      break;
    default:
      break;
  }
  // LOC_STS.beenSeized is cleared when the seized locality requests again.
  if (a == loc_ctrl::kRequestAccess) arbiter_.clear_seized(loc);
}

void CrbDevice::write_ctrl_req(uint32_t value) {
  const uint32_t r = value & (ctrl_req::kCmdReady | ctrl_req::kGoIdle);
  if (r == ctrl_req::kCmdReady) {
    // Completes at once: the bit reads back 0 (PTP: TPM clears it when ready).
    if (state_ == CrbState::Idle) {
      state_ = CrbState::Ready;
      raise(intr::kCmdReady);
    }
  } else if (r == ctrl_req::kGoIdle) {
    if (state_ == CrbState::Execution) {
      go_idle_pending_ = true;  // takes effect when the command completes
    } else {
      state_ = CrbState::Idle;
    }
  }
}

void CrbDevice::start() {
  // While the engine still runs an aborted command it owns rsp_ until it
  // completes; this command starts then.
  const bool now = slot_.begin();
  state_ = CrbState::Execution;
  // In separate-page mode the guest can write the page at any time: parse
  // and submit a private copy, so the size checked is the size sent.
  const uint8_t* cmd = page_;
  if (separate_buffer()) {
    memcpy(cmd_copy_, page_, kBufferPageSize);
    cmd = cmd_copy_;
  }
  submit_from_ = cmd;
  TpmHeader h{};
  parse_header(cmd, buffer_size(), h);
  // A size no command can have is answered with TPM_RC_COMMAND_SIZE
  // without the engine (cmd_len_ = 0 marks it).
  cmd_len_ = (h.size < kTpmHeaderSize || h.size > buffer_size()) ? 0 : h.size;
  if (now) submit_current();
}

void CrbDevice::submit_current() {
  slot_.clear_deferred();
  if (cmd_len_ == 0) {
    finish(write_error_response(rsp_, sizeof rsp_, kTpmRcCommandSize));
    return;
  }
  const SubmissionId id = slot_.submitted();
  backend_.submit(id, arbiter_.active(), submit_from_, cmd_len_, rsp_, sizeof rsp_, *this);
}

void CrbDevice::complete(SubmissionId id, size_t response_len) {
  const bool waiting = state_ == CrbState::Execution;
  switch (slot_.complete(id, waiting)) {
    case CommandSlot::Completion::ignored:
      return;
    case CommandSlot::Completion::stale:
      // An aborted command finished; start the one that waited for it.
      if (slot_.start_deferred(waiting)) submit_current();
      return;
    case CommandSlot::Completion::current:
      break;
  }
  TpmHeader h{};
  if (response_len > buffer_size() || !parse_header(rsp_, response_len, h) || h.size != response_len) {
    response_len = write_error_response(rsp_, sizeof rsp_, kTpmRcFailure);
  }
  finish(response_len);
}

void CrbDevice::finish(size_t response_len) {
  memcpy(page_, rsp_, response_len);
  state_ = CrbState::Completion;
  if (go_idle_pending_) {
    go_idle_pending_ = false;
    state_ = CrbState::Idle;
  }
  raise(intr::kStart);
}

void CrbDevice::abort_command() {
  slot_.abort(backend_, state_ == CrbState::Execution);
  go_idle_pending_ = false;
  state_ = CrbState::Idle;
}

void CrbDevice::on_locality_change(const LocalityChange& change) {
  if (!change.changed) return;
  abort_command();
  if (change.current != kNoLocality) raise(intr::kLocalityChange);
}

void CrbDevice::raise(uint32_t event) {
  if (int_enable_ & event) int_status_ |= event;
  update_irq();
}

void CrbDevice::update_irq() {
  const bool level = (int_enable_ & intr::kGlobalEnable) && (int_status_ & int_enable_ & intr::kEventMask);
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_ != nullptr) irq_->set_level(level, 0);
  }
}

}  // namespace mamori::vtpm::crb
