// The platform TPM transport interface. What the transports (tis_transport, crb_transport) need from
// the machine: 8- and 32-bit MMIO accesses at an offset from the TPM's
// register base, and a microsecond clock for the TCG PTP timeouts.
//
// Both are interfaces so the transports stay pure state machines: the VMM
// implements them with volatile accesses to the identity-mapped window and
// the TSC (drivers/tpm/platform_tpm.cpp); host tests with the project's own
// TIS/CRB device models and a simulated clock (tests/unit/drivers).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::drivers::tpm {

class TpmMmio {
 public:
  virtual uint8_t read8(uint64_t offset) = 0;
  virtual uint32_t read32(uint64_t offset) = 0;
  virtual void write8(uint64_t offset, uint8_t value) = 0;
  virtual void write32(uint64_t offset, uint32_t value) = 0;

 protected:
  ~TpmMmio() = default;
};

class TpmClock {
 public:
  virtual uint64_t now_us() = 0;
  // Lets at least `us` microseconds pass (busy-wait in the VMM; in tests
  // the simulated time advances and the engine may make progress).
  virtual void sleep_us(uint32_t us) = 0;

 protected:
  ~TpmClock() = default;
};

// TCG PC Client Platform TPM Profile (PTP) Specification, Family 2.0,
// Level 00 Revision 1.05, §6.5.1.4 Table 17 "Interface Timeouts" (the same
// values for FIFO and CRB):
//   TIMEOUT_A 750 ms   locality request/relinquish, burstCount
//   TIMEOUT_B 2000 ms  commandReady/goIdle transitions, cancel
//   TIMEOUT_C 200 ms   stsValid after a FIFO access, CRB cmdReady/goIdle
//   TIMEOUT_D 30 ms    short status transitions
// The PTP defines no bound for command execution itself (TPM 2.0 Part 1
// §30 leaves it to the vendor); like Linux's TPM2_DURATION_LONG_LONG
// (drivers/char/tpm/tpm.h) the driver waits up to 300 s, which covers RSA
// key generation on slow chips. A timeout never hangs: every wait is a
// bounded poll on this clock.
struct TpmTimeouts {
  uint32_t a_us = 750'000;
  uint32_t b_us = 2'000'000;
  uint32_t c_us = 200'000;
  uint32_t d_us = 30'000;
  uint64_t command_us = 300'000'000;
};

// Why a transport call failed. Every failure leaves the interface in a
// state the next command can start from (the transport aborts with
// commandReady / cancel as the PTP says) unless the device is gone.
enum class TpmError : uint8_t {
  None,
  NoDevice,            // registers read as a floating bus (all ones) or not valid
  BadInterface,        // CRB control area describes unusable buffers
  LocalityTimeout,     // locality not granted within TIMEOUT_A
  ReadyTimeout,        // commandReady / cmdReady not reached within TIMEOUT_B
  BurstCountTimeout,   // burstCount stayed 0 for TIMEOUT_A
  StsValidTimeout,     // stsValid never set within TIMEOUT_C
  ExpectMismatch,      // FIFO Expect bit disagrees with the bytes sent
  CommandTimeout,      // dataAvail never set / START never cleared (command canceled)
  CommandMalformed,    // command shorter than its header or size field != length
  CommandTooLarge,     // command larger than the TPM's buffer
  ResponseTooLarge,    // response size field larger than the caller's or the TPM's buffer
  ResponseMalformed,   // response size field below the 10-byte header
  ResponseShort,       // the TPM ran out of data before the size field's bytes
  ResponseOverrun,     // dataAvail still set after the size field's bytes
  TpmFatal,            // CRB TPM_CRB_CTRL_STS.tpmSts: the TPM reports a fatal error
};
const char* tpm_error_name(TpmError e);

// One TPM interface (FIFO/TIS or CRB) at one locality.
class TpmTransport {
 public:
  // Takes the locality if it is not already active (remembering whether it
  // was) and brings the interface to a state that accepts commands.
  virtual TpmError open() = 0;
  // Sends command[0..len) and reads the response into rsp (capacity cap).
  virtual TpmError transmit(const uint8_t* command, size_t len, uint8_t* rsp, size_t cap, size_t& rsp_len) = 0;
  // Leaves the locality and idle state as open() found them (OVMF keeps
  // locality 0 active for the OS; the VMM must not take it away).
  virtual void close() = 0;
  virtual const char* name() const = 0;

 protected:
  ~TpmTransport() = default;
};

// Polls pred() until it holds or timeout_us passed on clock; the poll
// interval grows from 10 µs to 1 ms so short transitions are seen quickly
// and long commands do not flood the bus.
template <class Pred>
bool poll_until(TpmClock& clock, uint64_t timeout_us, Pred pred) {
  const uint64_t start = clock.now_us();
  uint32_t interval = 10;
  for (;;) {
    if (pred()) return true;
    if (clock.now_us() - start >= timeout_us) return pred();
    clock.sleep_us(interval);
    if (interval < 1000) interval *= 2;
  }
}

}  // namespace mamori::drivers::tpm
