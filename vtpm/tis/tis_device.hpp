// The guest-visible TPM FIFO (TIS) interface of one VM.
//
// State machine (PTP "FIFO Interface", TPM_STS_x state transitions):
//   Idle --commandReady--> Ready --first FIFO byte--> Reception
//   Reception --last byte (size from header)--> Reception, Expect=0
//   Reception(Expect=0) --tpmGo--> Execution --engine done--> Completion
//   Completion --commandReady--> Ready
// commandReady in Reception/Execution aborts the command; a locality change
// (relinquish or seize) aborts it and returns to Idle.
//
// The VMM calls mmio_read/mmio_write with the offset inside the 0x5000-byte
// window (locality = offset / 0x1000) and the access size from the decoder.
// No allocation: one command and one response buffer of kTpmBufferSize.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vtpm/common/command_slot.hpp"
#include "vtpm/common/locality.hpp"
#include "vtpm/common/mmio.hpp"
#include "vtpm/common/tpm_backend.hpp"
#include "vtpm/tis/tis_regs.hpp"

namespace mamori::vtpm::tis {

enum class TisState : uint8_t { Idle, Ready, Reception, Execution, Completion };

struct TisConfig {
  // TPM_DID_VID_x / TPM_RID_x. Defaults match swtpm/QEMU (IBM vendor id
  // 0x1014, device 0x0001) so drivers' quirk tables treat mamori like them.
  uint32_t did_vid = 0x00011014;
  uint8_t rid = 0x01;
  // tpmEstablishment: whether an H-CRTM / dynamic launch event happened.
  bool established = false;
  // Localities the guest can reach (bit l = locality l). PTP: locality 4 is
  // driven only by the processor (H-CRTM / DRTM), never by software, so a
  // guest's accesses to its page float unless the VMM grants it.
  uint8_t locality_mask = kGuestLocalities;
  static constexpr uint8_t kGuestLocalities = 0x0F;
};

class TisDevice final : public TpmCompletion {
 public:
  TisDevice(TpmBackend& backend, InterruptSink* irq, const TisConfig& config = {});

  uint64_t mmio_read(uint64_t offset, uint8_t size);
  void mmio_write(uint64_t offset, uint8_t size, uint64_t value);

  // TpmCompletion: the engine finished submission `id`.
  void complete(SubmissionId id, size_t response_len) override;

  // Platform reset (_TPM_Init): localities, state and interrupts to reset values.
  void reset();

  // Observers for the VMM console, tests and fuzz invariants.
  TisState state() const { return state_; }
  uint8_t active_locality() const { return arbiter_.active(); }
  bool irq_asserted() const { return irq_level_; }
  bool engine_busy() const { return slot_.in_flight(); }
  size_t command_received() const { return cmd_len_; }
  size_t response_length() const { return rsp_len_; }
  size_t response_read() const { return rsp_pos_; }
  uint32_t burst_count() const;
  const MmioStats& stats() const { return stats_; }
  uint64_t dropped_fifo_bytes() const { return dropped_fifo_bytes_; }

 private:
  bool reachable(uint8_t loc) const { return (config_.locality_mask >> loc) & 1u; }
  uint32_t read_register(uint8_t loc, uint16_t reg, uint8_t size);
  void write_register(uint8_t loc, uint16_t reg, uint8_t size, uint32_t value);
  uint8_t read_access(uint8_t loc) const;
  uint32_t read_sts() const;
  void write_access(uint8_t loc, uint8_t value);
  void write_sts(uint8_t loc, uint32_t value);
  uint8_t fifo_read_byte();
  void fifo_write_byte(uint8_t b);
  bool command_complete() const;
  void go();
  void submit_current();
  void abort_command(TisState next);
  void set_ready();
  void on_locality_change(const LocalityChange& change);
  void raise(uint8_t loc, uint32_t event);
  void update_irq();

  TpmBackend& backend_;
  InterruptSink* irq_;
  TisConfig config_;
  LocalityArbiter arbiter_;
  TisState state_ = TisState::Idle;

  uint32_t int_enable_[kNumLocalities] = {};
  uint32_t int_status_[kNumLocalities] = {};
  uint8_t int_vector_[kNumLocalities] = {};
  bool irq_level_ = false;

  uint8_t cmd_[kTpmBufferSize] = {};
  size_t cmd_len_ = 0;
  bool cmd_malformed_ = false;  // header size < 10 or > buffer: answered locally
  uint8_t rsp_[kTpmBufferSize] = {};
  size_t rsp_len_ = 0;
  size_t rsp_pos_ = 0;

  CommandSlot slot_;  // the guest waits in Execution; tpmGo may be deferred
  uint8_t cmd_locality_ = 0;

  MmioStats stats_;
  uint64_t dropped_fifo_bytes_ = 0;
};

}  // namespace mamori::vtpm::tis
