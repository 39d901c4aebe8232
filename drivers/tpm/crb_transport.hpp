// The platform TPM's Command Response Buffer (CRB) interface, driven from
// the VMM.
//
// TCG PC Client Platform TPM Profile (PTP) Specification, Family 2.0,
// Revision 1.05, §6.5 "CRB Interface": locality (TPM_LOC_STATE_x,
// TPM_LOC_CTRL_x requestAccess/relinquish, TPM_LOC_STS_x.Granted), the
// control area (TPM_CRB_CTRL_REQ_x cmdReady/goIdle, TPM_CRB_CTRL_STS_x
// tpmIdle/tpmSts, TPM_CRB_CTRL_CANCEL_x, TPM_CRB_CTRL_START_x, the command
// and response buffer addresses and sizes) and the flow of §6.5.3 (Idle ->
// Ready -> Command Reception -> Command Execution -> Command Completion).
// The register map is the one of the guest-visible model (vtpm/crb/
// crb_regs.hpp); the buffer description is decoded by the ACPI code's
// crb_decode_control_area (vmm/core/tpm2_table.hpp).
//
// Offsets given to TpmMmio are relative to the locality-0 page (the
// ACPI TPM2 table's control area minus 0x40); the command and response
// buffers are reached at (their physical address - that base), so they may
// lie inside the locality page (+0x80, Intel PTT, QEMU) or elsewhere.
#pragma once
#include "drivers/tpm/transport.hpp"

namespace mamori::drivers::tpm {

class CrbTransport final : public TpmTransport {
 public:
  // base: physical address of the locality-0 register page.
  CrbTransport(TpmMmio& mmio, TpmClock& clock, uint64_t base, uint8_t locality = 0, const TpmTimeouts& t = {})
      : mmio_(mmio), clock_(clock), base_(base), loc_(locality), t_(t) {}

  TpmError open() override;
  TpmError transmit(const uint8_t* command, size_t len, uint8_t* rsp, size_t cap, size_t& rsp_len) override;
  void close() override;
  const char* name() const override { return "CRB"; }

  bool found_active() const { return found_active_; }
  bool found_idle() const { return found_idle_; }
  uint32_t command_size() const { return cmd_size_; }
  uint32_t response_size() const { return rsp_size_; }

 private:
  uint64_t reg(uint16_t r) const;
  TpmError request_locality();
  TpmError read_buffers();
  TpmError cmd_ready();
  void go_idle();
  void copy_out(uint64_t off, const uint8_t* src, size_t n);
  void copy_in(uint64_t off, uint8_t* dst, size_t n);

  TpmMmio& mmio_;
  TpmClock& clock_;
  uint64_t base_;
  uint8_t loc_;
  TpmTimeouts t_;
  bool open_ = false;
  bool found_active_ = false;
  bool found_idle_ = false;
  uint64_t cmd_off_ = 0, rsp_off_ = 0;
  uint32_t cmd_size_ = 0, rsp_size_ = 0;
};

}  // namespace mamori::drivers::tpm
