#include "vtpm/tis/tis_device.hpp"

#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::tis {

using namespace protocol;  // TPM header and error responses

namespace {


// Where an access of `size` bytes at `reg` (offset in a locality page)
// lands. It is served when it lies inside one register (PTP: software uses
// 1-, 2- or 4-byte accesses that do not cross a register) or inside
// reserved/vendor space; anything that straddles a register boundary or the
// page end is a Crossing.
struct Target {
  enum Kind { Register, Reserved, Crossing } kind;
  uint16_t base;  // Register: the register's offset
};

Target classify(uint16_t reg, uint8_t size) {
  static constexpr Reg kRegs[] = {kAccess,    kIntEnable,  kIntVector, kIntStatus,
                                  kIntfCapability, kSts, kDataFifo,  kInterfaceId,
                                  kXDataFifo, kDidVid,     kRid};
  const uint32_t end = uint32_t{reg} + size;
  if (end > kLocalityStride) return {Target::Crossing, 0};
  for (const Reg& r : kRegs) {
    if (reg >= r.offset && reg < r.offset + r.width) {
      if (end > uint32_t{r.offset} + r.width) return {Target::Crossing, 0};
      return {Target::Register, r.offset};
    }
    if (reg < r.offset && end > r.offset) return {Target::Crossing, 0};  // reserved into a register
  }
  return {Target::Reserved, 0};
}

bool is_fifo(uint16_t base) { return base == kDataFifo.offset || base == kXDataFifo.offset; }

constexpr uint32_t kIntfCapabilityValue =
    cap::kDataAvailIntSupport | cap::kStsValidIntSupport | cap::kLocalityChangeIntSupport |
    cap::kInterruptLevelHigh | cap::kInterruptLevelLow | cap::kCommandReadyIntSupport |
    cap::kDataTransferLegacy | cap::kInterfaceVersionPtp;

}  // namespace

TisDevice::TisDevice(TpmBackend& backend, InterruptSink* irq, const TisConfig& config)
    : backend_(backend), irq_(irq), config_(config) {}

void TisDevice::reset() {
  slot_.reset(backend_);  // a completion still to come will be dropped
  arbiter_.reset();
  state_ = TisState::Idle;
  for (uint8_t l = 0; l < kNumLocalities; ++l) {
    int_enable_[l] = 0;
    int_status_[l] = 0;
    int_vector_[l] = 0;
  }
  cmd_len_ = 0;
  cmd_malformed_ = false;
  rsp_len_ = 0;
  rsp_pos_ = 0;
  update_irq();
}

uint64_t TisDevice::mmio_read(uint64_t offset, uint8_t size) {
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
  if (t.kind == Target::Reserved || !reachable(loc)) return all_ones(size);  // reserved / locality 4 float
  const uint16_t base = t.base;

  if (is_fifo(base)) {
    // PTP: FIFO reads of a non-active locality, or with no data, give FFh.
    uint64_t v = 0;
    for (uint8_t i = 0; i < size; ++i) {
      const uint8_t b = arbiter_.is_active(loc) ? fifo_read_byte() : 0xFF;
      v |= uint64_t{b} << (8 * i);
    }
    return v;
  }
  const uint32_t value = read_register(loc, base, size);
  const uint32_t shifted = value >> (8 * (reg - base));
  return shifted & size_mask(size);
}

void TisDevice::mmio_write(uint64_t offset, uint8_t size, uint64_t value) {
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
  if (t.kind == Target::Reserved || !reachable(loc)) return;  // reserved / locality 4: dropped
  const uint16_t base = t.base;

  if (is_fifo(base)) {
    for (uint8_t i = 0; i < size; ++i) {
      const uint8_t b = static_cast<uint8_t>(value >> (8 * i));
      if (arbiter_.is_active(loc)) {
        fifo_write_byte(b);
      } else {
        ++dropped_fifo_bytes_;  // PTP: writes from a non-active locality are ignored
      }
    }
    return;
  }
  // Place the written bytes in their lanes of the 32-bit register; the
  // handlers act only on bits set in this write.
  const uint32_t lanes = static_cast<uint32_t>((value & size_mask(size)) << (8 * (reg - base)));
  write_register(loc, base, size, lanes);
}

uint32_t TisDevice::read_register(uint8_t loc, uint16_t base, uint8_t) {
  switch (base) {
    case kAccess.offset:
      return read_access(loc);
    case kIntEnable.offset:
      return int_enable_[loc];
    case kIntVector.offset:
      return int_vector_[loc];
    case kIntStatus.offset:
      return int_status_[loc];
    case kIntfCapability.offset:
      return kIntfCapabilityValue;
    case kSts.offset:
      // PTP: TPM_STS_x of a locality that is not active reads FFh.
      return arbiter_.is_active(loc) ? read_sts() : 0xFFFFFFFFu;
    case kInterfaceId.offset:
      return ifid::kTypeFifoPtp | ifid::kVersionFifo | ifid::kCapLocality | ifid::kCapFifo |
             ifid::kSelectorFifo | ifid::kIntfSelLock |
             (uint32_t{config_.rid} << ifid::kRidShift);
    case kDidVid.offset:
      return config_.did_vid;
    case kRid.offset:
      return config_.rid;
    default:
      return 0xFFFFFFFFu;
  }
}

uint8_t TisDevice::read_access(uint8_t loc) const {
  uint8_t v = access::kTpmRegValidSts;
  if (!config_.established) v |= access::kTpmEstablishment;
  if (arbiter_.requesting(loc)) v |= access::kRequestUse;
  if (arbiter_.other_requesting(loc)) v |= access::kPendingRequest;
  if (arbiter_.been_seized(loc)) v |= access::kBeenSeized;
  if (arbiter_.is_active(loc)) v |= access::kActiveLocality;
  return v;
}

bool TisDevice::command_complete() const {
  if (cmd_malformed_) return true;
  if (cmd_len_ < kTpmSizeKnownAfter) return false;
  return cmd_len_ == header_size_field(cmd_);
}

uint32_t TisDevice::burst_count() const {
  size_t n = 0;
  switch (state_) {
    case TisState::Ready:
      n = kTpmBufferSize;
      break;
    case TisState::Reception:
      if (!command_complete()) {
        n = kTpmBufferSize - cmd_len_;
        if (cmd_len_ >= kTpmSizeKnownAfter) n = header_size_field(cmd_) - cmd_len_;
      }
      break;
    case TisState::Completion:
      n = rsp_len_ - rsp_pos_;
      break;
    default:
      break;
  }
  return n > sts::kBurstCountMax ? sts::kBurstCountMax : static_cast<uint32_t>(n);
}

uint32_t TisDevice::read_sts() const {
  uint32_t v = sts::kStsValid | sts::kSelfTestDone | sts::kTpmFamily20;
  if (state_ == TisState::Ready) v |= sts::kCommandReady;
  if (state_ == TisState::Reception && !command_complete()) v |= sts::kExpect;
  if (state_ == TisState::Completion && rsp_pos_ < rsp_len_) v |= sts::kDataAvail;
  v |= burst_count() << sts::kBurstCountShift;
  return v;
}

void TisDevice::write_register(uint8_t loc, uint16_t base, uint8_t, uint32_t value) {
  if (base == kAccess.offset) {
    write_access(loc, static_cast<uint8_t>(value));
    return;
  }
  // PTP: only the active locality may change the interface's registers.
  if (!arbiter_.is_active(loc)) return;
  switch (base) {
    case kIntEnable.offset:
      int_enable_[loc] = value & intr::kEnableWritable;
      update_irq();
      break;
    case kIntVector.offset:
      int_vector_[loc] = static_cast<uint8_t>(value & intr::kVectorMask);
      break;
    case kIntStatus.offset:
      int_status_[loc] &= ~(value & intr::kEventMask);  // write 1 to clear
      update_irq();
      break;
    case kSts.offset:
      write_sts(loc, value);
      break;
    default:
      break;  // read-only registers
  }
}

void TisDevice::write_access(uint8_t loc, uint8_t value) {
  constexpr uint8_t kActions =
      access::kRequestUse | access::kSeize | access::kBeenSeized | access::kActiveLocality;
  const uint8_t actions = value & kActions;
  // PTP asks software to set one bit per write; a write with several action
  // bits has no defined order, so mamori drops it rather than guess.
  if (actions == 0 || (actions & (actions - 1)) != 0) return;
  switch (actions) {
    case access::kRequestUse:
      on_locality_change(arbiter_.request(loc));
      break;
    case access::kSeize:
      on_locality_change(arbiter_.seize(loc));
      break;
    case access::kBeenSeized:
      arbiter_.clear_seized(loc);
      break;
    case access::kActiveLocality:
      on_locality_change(arbiter_.relinquish(loc));
      break;
    default:
      break;
  }
}

void TisDevice::on_locality_change(const LocalityChange& change) {
  if (!change.changed) return;
  // PTP: a command in flight belongs to the locality that sent it; losing
  // the locality aborts it and the interface returns to Idle.
  abort_command(TisState::Idle);
  if (change.current != kNoLocality) raise(change.current, intr::kLocalityChange);
}

void TisDevice::write_sts(uint8_t loc, uint32_t value) {
  if (value & sts::kCommandCancel) {
    if (state_ == TisState::Execution && slot_.in_flight()) backend_.cancel(slot_.current());
  }
  if (value & sts::kResetEstablishment) {
    // PTP: honoured only from localities 3 and 4.
    if (loc >= 3) config_.established = false;
  }
  if (value & sts::kCommandReady) {
    set_ready();
  }
  if (value & sts::kTpmGo) {
    if (state_ == TisState::Reception && command_complete()) go();
  }
  if (value & sts::kResponseRetry) {
    if (state_ == TisState::Completion) rsp_pos_ = 0;
  }
}

void TisDevice::set_ready() {
  switch (state_) {
    case TisState::Idle:
    case TisState::Completion:
      cmd_len_ = 0;
      cmd_malformed_ = false;
      rsp_len_ = rsp_pos_ = 0;
      state_ = TisState::Ready;
      raise(arbiter_.active(), intr::kCommandReady);
      break;
    case TisState::Ready:
      cmd_len_ = 0;  // PTP: commandReady in Ready clears the FIFO
      break;
    case TisState::Reception:
    case TisState::Execution:
      abort_command(TisState::Ready);
      raise(arbiter_.active(), intr::kCommandReady);
      break;
  }
}

void TisDevice::abort_command(TisState next) {
  slot_.abort(backend_, state_ == TisState::Execution);  // completion will arrive and be dropped
  cmd_len_ = 0;
  cmd_malformed_ = false;
  rsp_len_ = rsp_pos_ = 0;
  state_ = next;
}

void TisDevice::fifo_write_byte(uint8_t b) {
  if (state_ == TisState::Ready) {
    state_ = TisState::Reception;
    cmd_len_ = 0;
  }
  // PTP: data written outside Reception, or after the last byte of the
  // command (Expect = 0), is discarded.
  if (state_ != TisState::Reception || command_complete() || cmd_len_ >= kTpmBufferSize) {
    ++dropped_fifo_bytes_;
    return;
  }
  cmd_[cmd_len_++] = b;
  if (cmd_len_ == kTpmSizeKnownAfter) {
    const uint32_t size = header_size_field(cmd_);
    // A size no TPM command can have: stop expecting data and answer
    // TPM_RC_COMMAND_SIZE at tpmGo instead of waiting for bytes that will
    // never fit.
    if (size < kTpmHeaderSize || size > kTpmBufferSize) cmd_malformed_ = true;
  }
  if (command_complete()) raise(arbiter_.active(), intr::kStsValid);
}

uint8_t TisDevice::fifo_read_byte() {
  if (state_ != TisState::Completion || rsp_pos_ >= rsp_len_) return 0xFF;
  const uint8_t b = rsp_[rsp_pos_++];
  if (rsp_pos_ == rsp_len_) raise(arbiter_.active(), intr::kStsValid);  // dataAvail fell
  return b;
}

void TisDevice::go() {
  state_ = TisState::Execution;
  cmd_locality_ = arbiter_.active();
  // While the engine still runs an aborted command it owns rsp_ until it
  // completes; this command starts then.
  if (slot_.begin()) submit_current();
}

void TisDevice::submit_current() {
  slot_.clear_deferred();
  if (cmd_malformed_) {
    // No TPM command has this size: answer as a TPM would, without the engine.
    rsp_len_ = write_error_response(rsp_, sizeof rsp_, kTpmRcCommandSize);
    rsp_pos_ = 0;
    state_ = TisState::Completion;
    raise(arbiter_.active(), intr::kDataAvail);
    return;
  }
  const SubmissionId id = slot_.submitted();
  backend_.submit(id, cmd_locality_, cmd_, cmd_len_, rsp_, sizeof rsp_, *this);
}

void TisDevice::complete(SubmissionId id, size_t response_len) {
  const bool waiting = state_ == TisState::Execution;
  switch (slot_.complete(id, waiting)) {
    case CommandSlot::Completion::ignored:
      return;  // unknown: ignore
    case CommandSlot::Completion::stale:
      // An aborted command finished; start the one that waited for it.
      if (slot_.start_deferred(waiting)) submit_current();
      return;
    case CommandSlot::Completion::current:
      break;
  }
  TpmHeader h{};
  if (response_len > sizeof rsp_ || !parse_header(rsp_, response_len, h) || h.size != response_len) {
    response_len = write_error_response(rsp_, sizeof rsp_, kTpmRcFailure);
  }
  rsp_len_ = response_len;
  rsp_pos_ = 0;
  state_ = TisState::Completion;
  raise(arbiter_.active(), intr::kDataAvail);
}

void TisDevice::raise(uint8_t loc, uint32_t event) {
  if (loc >= kNumLocalities) return;
  // PTP: an event is latched in TPM_INT_STATUS_x only when enabled.
  if (int_enable_[loc] & event) int_status_[loc] |= event;
  update_irq();
}

void TisDevice::update_irq() {
  bool level = false;
  uint8_t vector = 0;
  for (uint8_t l = 0; l < kNumLocalities; ++l) {
    if ((int_enable_[l] & intr::kGlobalEnable) && (int_status_[l] & int_enable_[l] & intr::kEventMask)) {
      level = true;
      vector = int_vector_[l];
    }
  }
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_ != nullptr) irq_->set_level(level, vector);
  }
}

}  // namespace mamori::vtpm::tis
