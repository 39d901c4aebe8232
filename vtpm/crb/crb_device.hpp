// The guest-visible TPM CRB interface of one VM.
//
// States (PTP "CRB Interface", TPM_CRB_CTRL_STS_x.tpmIdle and the
// TPM_CRB_CTRL_REQ_x / TPM_CRB_CTRL_START_x protocol):
//   Idle --CTRL_REQ.cmdReady--> Ready --START=1--> Execution
//   Execution --engine done, START cleared by the TPM--> Completion
//   Completion --START=1--> Execution (next command)  | --goIdle--> Idle
// A locality change (relinquish, seize) aborts a command and goes Idle.
//
// The data buffer (0xF80 bytes at offset 0x80 of the locality page) holds the
// command and, after completion, the response. Only the active locality's
// control area and buffer respond; one buffer is shared by all localities.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vtpm/common/command_slot.hpp"
#include "vtpm/common/locality.hpp"
#include "vtpm/common/mmio.hpp"
#include "vtpm/common/tpm_backend.hpp"
#include "vtpm/crb/crb_regs.hpp"

namespace mamori::vtpm::crb {

enum class CrbState : uint8_t { Idle, Ready, Execution, Completion };

struct CrbConfig {
  // Guest-physical base of the register window (ACPI TPM2 table control
  // area); the command/response address registers report base + 0x80.
  uint64_t base_gpa = kCrbBaseGpa;
  // 0: the data buffer sits in the register page at +0x80 and every access
  // to it is trapped. Otherwise the page-aligned guest-physical address
  // where the VMM maps buffer_page() read/write for the guest; the address
  // registers report it, the size registers report 4096, and the model
  // hands the engine a private copy of the command taken at START (the
  // guest can still write the shared page while the command executes).
  uint64_t buffer_page_gpa = 0;
  uint16_t vendor_id = 0x1014;  // as swtpm/QEMU, see TisConfig
  uint16_t device_id = 0x0001;
  uint8_t rid = 0x01;
  bool established = false;
  // Localities the guest can reach; locality 4 is the processor's (see TisConfig).
  uint8_t locality_mask = kGuestLocalities;
  static constexpr uint8_t kGuestLocalities = 0x0F;
};

class CrbDevice final : public TpmCompletion {
 public:
  CrbDevice(TpmBackend& backend, InterruptSink* irq, const CrbConfig& config = {});

  uint64_t mmio_read(uint64_t offset, uint8_t size);
  void mmio_write(uint64_t offset, uint8_t size, uint64_t value);
  void complete(SubmissionId id, size_t response_len) override;
  void reset();

  // The data buffer page (4 KiB, page-aligned) for the VMM to map at
  // CrbConfig::buffer_page_gpa.
  uint8_t* buffer_page() { return page_; }
  bool separate_buffer() const { return config_.buffer_page_gpa != 0; }
  uint32_t buffer_size() const { return separate_buffer() ? kBufferPageSize : kDataBufferSize; }

  CrbState state() const { return state_; }
  uint8_t active_locality() const { return arbiter_.active(); }
  bool start_pending() const { return state_ == CrbState::Execution; }
  bool irq_asserted() const { return irq_level_; }
  bool engine_busy() const { return slot_.in_flight(); }
  const MmioStats& stats() const { return stats_; }

 private:
  bool reachable(uint8_t loc) const { return (config_.locality_mask >> loc) & 1u; }
  uint64_t read_register(uint8_t loc, uint16_t base) const;
  void write_register(uint8_t loc, uint16_t base, uint32_t value);
  void write_loc_ctrl(uint8_t loc, uint32_t value);
  void write_ctrl_req(uint32_t value);
  void start();
  void submit_current();
  void abort_command();
  void finish(size_t response_len);
  void on_locality_change(const LocalityChange& change);
  void raise(uint32_t event);
  void update_irq();
  uint64_t buffer_gpa() const { return separate_buffer() ? config_.buffer_page_gpa : config_.base_gpa + kDataBuffer; }

  TpmBackend& backend_;
  InterruptSink* irq_;
  CrbConfig config_;
  LocalityArbiter arbiter_;
  CrbState state_ = CrbState::Idle;
  bool go_idle_pending_ = false;  // goIdle written during Execution
  uint32_t cancel_ = 0;
  uint32_t int_enable_ = 0;
  uint32_t int_status_ = 0;
  bool irq_level_ = false;

  uint8_t cmd_copy_[kBufferPageSize] = {};  // separate-page mode: what the engine reads
  uint8_t rsp_[kTpmBufferSize] = {};
  size_t cmd_len_ = 0;
  const uint8_t* submit_from_ = page_;  // command bytes handed to the engine
  CommandSlot slot_;  // the guest waits in Execution; START may be deferred

  MmioStats stats_;
  // Last, so the other members fill the space before its page alignment.
  alignas(kBufferPageSize) uint8_t page_[kBufferPageSize] = {};  // the data buffer
};

}  // namespace mamori::vtpm::crb
