// The destination's acknowledgement (docs/migration.md "Ack"):
//
//   u32 magic "MMAK" | u16 version | u8 vm_id[16] | u8 nonce[32] | u64 epoch
//   | u8 mac[32]
//
// mac = HMAC-SHA-256(KDFa(SHA-256, K, "MAMORI ACK", nonce, vm_id, 256),
//                    everything before mac). Only a party that unwrapped K —
// i.e. the destination's TPM — can produce it; the source deletes its
// instance only on a valid ack.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/migration/format/limits.hpp"
#include "vtpm/migration/format/parse_error.hpp"
#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::migration {

inline constexpr size_t kAckBodySize = 4 + 2 + kVmIdSize + kNonceSize + 8;
inline constexpr size_t kAckSize = kAckBodySize + kAckMacSize;

struct AckView {
  uint8_t vm_id[kVmIdSize] = {};
  uint8_t nonce[kNonceSize] = {};
  uint64_t epoch = 0;
  protocol::ByteSpan body;  // the MAC'd bytes
  protocol::ByteSpan mac;
};

ParseError parse_ack(const uint8_t* data, size_t size, AckView& out);
// Writes the ack body (without MAC) into out[kAckBodySize].
void write_ack_body(uint8_t out[kAckBodySize], const uint8_t vm_id[kVmIdSize], const uint8_t nonce[kNonceSize],
                    uint64_t epoch);

}  // namespace mamori::vtpm::migration
