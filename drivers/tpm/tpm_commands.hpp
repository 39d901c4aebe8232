// The VMM's TPM 2.0 command layer over a platform TPM transport (FIFO or
// CRB): what the VMM needs first, GetRandom, GetCapability (TPM
// properties, PCR banks), PCR_Read and PCR_Extend (TPM 2.0 Part 3 §16.1,
// §30.2, §22.4, §22.2), and the storage key: CreatePrimary with the SRK
// template and FlushContext (§24.1, §28.4). Commands are framed by tpm2/command.hpp and
// marshalled with the vtpm/protocol byte codec, the same code the host
// migration tool uses; the response parsers below are pure functions over
// untrusted bytes (fuzzed by tests/fuzz/drivers).
//
// No allocation: one command and one response buffer inside the object
// (keep it static in the VMM, not on a stack).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "drivers/tpm/transport.hpp"
#include "vtpm/migration/tpm2/command.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::drivers::tpm {

using vtpm::migration::tpm2::ResponseStatus;

// Outcome of one command: a transport failure, a well-formed TPM error
// code, or a response whose shape or contents were refused.
struct TpmStatus {
  TpmError transport = TpmError::None;
  ResponseStatus shape = ResponseStatus::ok;
  uint32_t rc = 0;
  const char* refused = nullptr;  // which field of an otherwise framed response was refused
  bool ok() const { return transport == TpmError::None && shape == ResponseStatus::ok && refused == nullptr; }
};
// A short text for logs; the caller prints rc for ResponseStatus::tpm_error.
const char* tpm_status_text(const TpmStatus& s);

inline constexpr size_t kMaxPcrBanks = 8;
inline constexpr size_t kMaxDigestSize = 64;

struct TpmProperties {
  char manufacturer[5] = {};  // TPM_PT_MANUFACTURER as 4 ASCII bytes ("IBM", "INTC", "MSFT" ...)
  char vendor[17] = {};       // TPM_PT_VENDOR_STRING_1..4
  uint32_t firmware1 = 0, firmware2 = 0;  // TPM_PT_FIRMWARE_VERSION_1/2
};

struct PcrBanks {
  uint16_t alg[kMaxPcrBanks] = {};  // banks with at least one PCR allocated
  uint8_t pcr_count[kMaxPcrBanks] = {};
  size_t count = 0;
};

// Digest size of a PCR bank's hash (TPMT_HA sizes, Part 2 §10.3.2); 0 if unknown.
size_t digest_size(uint16_t alg);
const char* alg_name(uint16_t alg);  // "sha1", "sha256", ..., or "?"

// Response parameter parsers (the bytes after the header). A refusal names
// the field; nothing is read past `len`.
const char* parse_tpm_properties(const uint8_t* params, size_t len, TpmProperties& out);
const char* parse_pcr_banks(const uint8_t* params, size_t len, PcrBanks& out);
const char* parse_pcr_read(const uint8_t* params, size_t len, uint16_t alg, uint32_t pcr, uint8_t* digest,
                           size_t& digest_len);

class TpmCommands {
 public:
  explicit TpmCommands(TpmTransport& t) : t_(t) {}

  // Fills out[0..n) with TPM randomness, at most 32 bytes per command
  // (Part 3 §16.1: sizeof(TPMU_HA) is what every TPM serves).
  TpmStatus get_random(uint8_t* out, size_t n);
  TpmStatus get_properties(TpmProperties& out);
  TpmStatus get_pcr_banks(PcrBanks& out);
  // digest gets digest_size(alg) bytes.
  TpmStatus pcr_read(uint16_t alg, uint32_t pcr, uint8_t* digest, size_t cap, size_t& digest_len);
  // Extends one bank of `pcr` (empty-password authorization of the PCR).
  TpmStatus pcr_extend(uint32_t pcr, uint16_t alg, const uint8_t* digest, size_t len);
  // CreatePrimary in the owner hierarchy (empty owner auth) with the TCG
  // Provisioning Guidance SRK template (tpm2/public_area.hpp): ECC NIST
  // P-256 or RSA-2048. Returns the transient handle and the key's Name
  // (nameAlg || digest, Part 1 §16). The caller flushes the handle.
  TpmStatus create_storage_key(bool rsa, uint32_t& handle, uint8_t* name, size_t cap, size_t& name_len);
  TpmStatus flush_context(uint32_t handle);

 private:
  TpmStatus run(size_t cmd_len, bool sessions, vtpm::protocol::ByteSpan& params, size_t handles_out = 0,
                uint32_t* handle = nullptr);
  TpmStatus get_capability(uint32_t cap, uint32_t property, uint32_t count, vtpm::protocol::ByteSpan& params);

  TpmTransport& t_;
  uint8_t cmd_[1024] = {};
  uint8_t rsp_[4096] = {};
};

}  // namespace mamori::drivers::tpm
