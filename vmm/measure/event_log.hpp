// The TCG PC Client crypto-agile event log (TCG PC Client Platform Firmware
// Profile 1.05 §10: "Event Logging"), as firmware leaves it for the OS:
//   1. one TCG_PCClientPCREvent in the SHA-1 format (§10.2.1) whose event
//      is the TCG_EfiSpecIdEvent (§10.4.5.1, "Spec ID Event03"): it lists
//      the banks (algorithm id and digest size) every later record carries;
//   2. TCG_PCR_EVENT2 records (§10.2.2): PCR index, event type, a
//      TPML_DIGEST_VALUES with one digest per bank, the event data.
// All fields little-endian (§10.2). The memory after the last record is
// zero: Linux's reader (drivers/char/tpm/eventlog/tpm2.c) stops at a record
// with event type 0 and no event data.
//
// Also the replay of a log's extends (PcrReplay): what a verifier computes,
// used by the host tool (tools/measure) and the tests.
// Pure: writes only into the caller's buffer; no allocation.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "vmm/measure/digest.hpp"

namespace mamori::measure {

// TCG PC Client PFP 1.05 §10.4.1 Table 9: event types used here.
inline constexpr uint32_t kEvNoAction = 0x03;
inline constexpr uint32_t kEvSeparator = 0x04;
inline constexpr uint32_t kEvSCrtmVersion = 0x08;
inline constexpr uint32_t kEvPlatformConfigFlags = 0x0A;
inline constexpr uint32_t kEvIpl = 0x0D;

inline constexpr size_t kMaxBanks = 4;    // SHA-1, SHA-256, SHA-384, SHA-512 (digest.hpp)
inline constexpr uint32_t kPcrCount = 24; // PC Client PTP §4.6: PCRs 0-23

// The PCR banks the TPM has allocated (TPM2_GetCapability(TPM_CAP_PCRS)),
// in the order the log lists them.
struct Banks {
  HashAlg alg[kMaxBanks];
  size_t count = 0;
};

// One digest per bank, indexed like Banks::alg.
struct Digests {
  uint8_t d[kMaxBanks][kMaxDigestSize];
};

// digests.d[i] = H_i(p[0..n)) for every bank.
void hash_all(const Banks& banks, const uint8_t* p, size_t n, Digests& out);

class EventLogWriter {
 public:
  // Writes the Spec ID header for `banks` at buf[0..). A buffer too small
  // even for it leaves the writer overflowed().
  EventLogWriter(uint8_t* buf, size_t cap, const Banks& banks);
  // Appends a TCG_PCR_EVENT2 whose event data is data[0..len) followed by
  // more[0..more_len) (a prefix and a string, as GRUB's "kernel_cmdline: ").
  // False (and nothing written) when it does not fit: the log is then
  // incomplete and overflowed() says so.
  bool add(uint32_t pcr, uint32_t type, const Digests& digests, const uint8_t* data, size_t len,
           const uint8_t* more = nullptr, size_t more_len = 0);
  size_t size() const { return used_; }
  bool overflowed() const { return overflowed_; }

 private:
  bool room(size_t n);
  void put(const void* p, size_t n);
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  uint8_t* buf_;
  size_t cap_, used_ = 0;
  Banks banks_;
  bool overflowed_ = false;
};

// The PCR values a sequence of extends gives, from all-zero PCRs (PCRs
// 0-15 after TPM2_Startup(CLEAR), PC Client PTP §4.6 Table 3).
class PcrReplay {
 public:
  explicit PcrReplay(const Banks& banks);
  // PCR[pcr] = H(PCR[pcr] || digest) in every bank (TPM 2.0 Part 1 §17.2).
  void extend(uint32_t pcr, const Digests& digests);
  const uint8_t* value(size_t bank, uint32_t pcr) const { return v_[bank][pcr]; }
  const Banks& banks() const { return banks_; }

 private:
  Banks banks_;
  uint8_t v_[kMaxBanks][kPcrCount][kMaxDigestSize] = {};
};

}  // namespace mamori::measure
