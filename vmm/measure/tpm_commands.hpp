// The TPM 2.0 commands a platform's firmware sends before the OS runs, as
// bytes (TPM 2.0 Library Part 3) and their responses parsed: TPM2_Startup,
// TPM2_GetCapability(TPM_CAP_PCRS) and TPM2_PCR_Extend. Pure: the caller
// sends them (launch.cpp through a vtpm::TpmBackend).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "vmm/measure/event_log.hpp"

namespace mamori::measure {

// TPM 2.0 Part 2 §6.6: TPM_RC_INITIALIZE, "TPM not initialized by
// TPM2_Startup or already initialized" (RC_VER1 + 0x000).
inline constexpr uint32_t kTpmRcInitialize = 0x100;
inline constexpr size_t kExtendCommandMax = 10 + 4 + 4 + 9 + 4 + kMaxBanks * (2 + kMaxDigestSize);

// Each writes the command into out (capacity cap) and returns its length,
// 0 if it does not fit.
// Part 3 §9.3 TPM2_Startup(TPM_SU_CLEAR).
size_t encode_startup_clear(uint8_t* out, size_t cap);
// Part 3 §30.2 TPM2_GetCapability(TPM_CAP_PCRS, 0, 1).
size_t encode_get_pcr_banks(uint8_t* out, size_t cap);
// Part 3 §22.2 TPM2_PCR_Extend(pcr, digests) with an empty password
// session (TPM_RS_PW: PCRs 0-15 have an empty authValue, Part 1 §17.6).
size_t encode_pcr_extend(uint32_t pcr, const Banks& banks, const Digests& d, uint8_t* out, size_t cap);

// The response code of a response (its header's), or TPM_RC_FAILURE
// (0x101) for fewer than 10 bytes.
uint32_t response_code(const uint8_t* rsp, size_t len);

enum class BanksStatus : uint8_t {
  Ok,
  Malformed,     // not a TPMS_CAPABILITY_DATA with a TPML_PCR_SELECTION
  Unsupported,   // a bank with PCRs selected that mamori cannot hash (other than SHA-1/256/384/512)
  None,          // no bank with PCRs 0-9 allocated
};
const char* describe(BanksStatus s);
// From a successful GetCapability(TPM_CAP_PCRS) response: the banks that
// have PCRs allocated (Part 2 §10.9.7 TPMS_PCR_SELECTION), in the order the
// TPM lists them. `unsupported` receives the algorithm id of a bank it
// cannot measure.
BanksStatus parse_pcr_banks(const uint8_t* rsp, size_t len, Banks& out, uint16_t& unsupported);

}  // namespace mamori::measure
