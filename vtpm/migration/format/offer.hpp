// The destination's offer (docs/migration.md "Offer"): a fresh nonce and
// the public area and Name of the destination physical TPM's storage key.
//
//   u32 magic "MMOF" | u16 version | u8 nonce[32]
//   | TPM2B_PUBLIC srk_public | TPM2B_NAME srk_name
//
// The parser checks structure only; the host side recomputes the Name
// from the public area (Part 1 §16 "Names") and rejects a mismatch.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/migration/format/limits.hpp"
#include "vtpm/migration/format/parse_error.hpp"
#include "vtpm/migration/tpm2/public_area.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration {

struct OfferView {
  uint16_t version = 0;
  protocol::ByteSpan nonce;
  protocol::ByteSpan srk_public_raw;  // TPMT_PUBLIC bytes (without the TPM2B size)
  tpm2::PublicArea srk_public;
  protocol::ByteSpan srk_name;
};

ParseError parse_offer(const uint8_t* data, size_t size, OfferView& out);

// Writes an offer; returns bytes written or 0 if it does not fit.
size_t write_offer(uint8_t* out, size_t capacity, const uint8_t nonce[kNonceSize], protocol::ByteSpan srk_public_raw,
                   protocol::ByteSpan srk_name);

}  // namespace mamori::vtpm::migration
