#include "vtpm/migration/format/ack.hpp"

namespace mamori::vtpm::migration {

ParseError parse_ack(const uint8_t* data, size_t size, AckView& out) {
  out = AckView{};
  protocol::ByteReader r(data, size);
  uint32_t magic = r.u32();
  if (!r.ok()) return ParseError::kTruncated;
  if (magic != kAckMagic) return ParseError::kBadMagic;
  uint16_t version = r.u16();
  if (!r.ok()) return ParseError::kTruncated;
  if (version != kFormatVersion) return ParseError::kUnknownVersion;
  protocol::ByteSpan vm = r.bytes(kVmIdSize);
  protocol::ByteSpan nonce = r.bytes(kNonceSize);
  out.epoch = r.u64();
  out.mac = r.bytes(kAckMacSize);
  if (!r.ok()) return ParseError::kTruncated;
  if (!r.at_end()) return ParseError::kOversized;
  for (size_t i = 0; i < kVmIdSize; ++i) out.vm_id[i] = vm.data[i];
  for (size_t i = 0; i < kNonceSize; ++i) out.nonce[i] = nonce.data[i];
  out.body = {data, kAckBodySize};
  return ParseError::kOk;
}

void write_ack_body(uint8_t out[kAckBodySize], const uint8_t vm_id[kVmIdSize], const uint8_t nonce[kNonceSize],
                    uint64_t epoch) {
  protocol::ByteWriter w(out, kAckBodySize);
  w.u32(kAckMagic);
  w.u16(kFormatVersion);
  w.bytes(vm_id, kVmIdSize);
  w.bytes(nonce, kNonceSize);
  w.u64(epoch);
}

}  // namespace mamori::vtpm::migration
