// Hand-built TPM 2.0 commands for the benchmark (TPM 2.0 Part 3), all with
// an empty-password session (Part 1 §19.8.3) where authorization is needed.
#pragma once
#include <stdint.h>

#include <vector>

namespace mamori::vtpm::bench {

using Bytes = std::vector<uint8_t>;

enum class KeyKind { ecc_p256, rsa_2048 };

Bytes startup_clear();                        // TPM2_Startup(CLEAR), Part 3 §9.3
Bytes get_random(uint16_t n);                 // TPM2_GetRandom, §16.1
Bytes pcr_extend_sha256(uint32_t pcr, uint8_t fill);  // TPM2_PCR_Extend, §22.2
Bytes create_primary_signing(KeyKind k);      // TPM2_CreatePrimary under the owner, §24.1
Bytes sign_sha256(uint32_t key, KeyKind k, uint8_t fill);  // TPM2_Sign, §20.2

uint32_t response_code(const Bytes& rsp);
// The object handle of a CreatePrimary response (right after the header).
uint32_t response_handle(const Bytes& rsp);

}  // namespace mamori::vtpm::bench
