// The platform TPM's FIFO (TIS) interface, driven from the VMM.
//
// TCG PC Client Platform TPM Profile (PTP) Specification, Family 2.0,
// Revision 1.05, §5.5 "FIFO Interface": §5.5.2.3 locality (TPM_ACCESS_x
// requestUse / activeLocality), §5.5.2.5 TPM_STS_x (commandReady,
// burstCount, stsValid, Expect, dataAvail, tpmGo, commandCancel) and the
// command/response flow of §5.5.2.7 (Table 30 state transitions). The
// register map is the one the guest-visible model uses (vtpm/tis/
// tis_regs.hpp); the protocol logic here is independent of the model, and
// the host tests run each against the other.
//
// Synchronous and polled (no interrupts): transmit() returns when the
// response is read, a timeout fired, or the device misbehaved.
#pragma once
#include "drivers/tpm/transport.hpp"

namespace mamori::drivers::tpm {

class TisTransport final : public TpmTransport {
 public:
  TisTransport(TpmMmio& mmio, TpmClock& clock, uint8_t locality = 0, const TpmTimeouts& t = {})
      : mmio_(mmio), clock_(clock), loc_(locality), t_(t) {}

  TpmError open() override;
  TpmError transmit(const uint8_t* command, size_t len, uint8_t* rsp, size_t cap, size_t& rsp_len) override;
  void close() override;
  const char* name() const override { return "FIFO"; }

  // Whether open() found the locality already active (then close() keeps it).
  bool found_active() const { return found_active_; }
  uint8_t locality() const { return loc_; }

 private:
  uint64_t reg(uint16_t r) const;
  uint32_t sts();
  TpmError wait_sts(uint32_t mask, uint32_t value, uint64_t timeout_us, TpmError on_timeout);
  TpmError burst(uint32_t& out);
  TpmError ready();
  TpmError send(const uint8_t* command, size_t len);
  TpmError receive(uint8_t* rsp, size_t cap, size_t& rsp_len);
  TpmError read_fifo(uint8_t* dst, size_t n);
  void abort();

  TpmMmio& mmio_;
  TpmClock& clock_;
  uint8_t loc_;
  TpmTimeouts t_;
  bool open_ = false;
  bool found_active_ = false;
};

}  // namespace mamori::drivers::tpm
