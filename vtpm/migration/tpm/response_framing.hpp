// Response framing shared by the transports: every TPM 2.0 response starts
// with tag (u16), responseSize (u32), responseCode (u32) — Part 1 §18.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm2/constants.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration::tpm {

inline constexpr size_t kResponseHeaderSize = 10;

// The size a response header declares, checked against sane bounds.
inline size_t declared_response_size(const uint8_t* hdr, size_t n) {
  protocol::ByteReader r(hdr, n);
  uint16_t tag = r.u16();
  uint32_t size = r.u32();
  if (!r.ok() || (tag != tpm2::kStNoSessions && tag != tpm2::kStSessions))
    throw MigrationError(Refusal::kTransport, "response has an invalid tag");
  if (size < kResponseHeaderSize || size > tpm2::kMaxResponseSize)
    throw MigrationError(Refusal::kTransport, "response declares an invalid size");
  return size;
}

}  // namespace mamori::vtpm::migration::tpm
