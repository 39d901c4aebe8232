#include "vtpm/service/state/sealed_format.hpp"

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::state {

SealedError parse_sealed_header(const uint8_t* file, size_t file_len, SealedHeader& out) {
  if (file == nullptr || file_len < kSealedHeaderSize + kSealedTagSize) return SealedError::truncated;
  for (size_t i = 0; i < sizeof(kSealedMagic); ++i) {
    if (file[i] != kSealedMagic[i]) return SealedError::bad_magic;
  }
  if (protocol::load_be16(file + 8) != kSealedVersion) return SealedError::bad_version;
  if (!is_sealed_kind(file[10])) return SealedError::bad_type;
  if (file[11] != 0) return SealedError::bad_reserved;
  const uint32_t length = protocol::load_be32(file + 12);
  if (length > kMaxSealedPlaintext) return SealedError::bad_length;
  if (file_len != kSealedHeaderSize + static_cast<size_t>(length) + kSealedTagSize) return SealedError::bad_length;
  out.kind = file[10];
  out.length = length;
  for (size_t i = 0; i < kSealedNonceSize; ++i) out.nonce[i] = file[16 + i];
  return SealedError::none;
}

size_t encode_sealed_header(const SealedHeader& h, uint8_t* out, size_t cap) {
  if (out == nullptr || cap < kSealedHeaderSize) return 0;
  for (size_t i = 0; i < sizeof(kSealedMagic); ++i) out[i] = kSealedMagic[i];
  protocol::store_be16(out + 8, kSealedVersion);
  out[10] = h.kind;
  out[11] = 0;
  protocol::store_be32(out + 12, h.length);
  for (size_t i = 0; i < kSealedNonceSize; ++i) out[16 + i] = h.nonce[i];
  return kSealedHeaderSize;
}

const char* sealed_error_name(SealedError e) {
  switch (e) {
    case SealedError::none: return "none";
    case SealedError::truncated: return "sealed file truncated";
    case SealedError::bad_magic: return "not a sealed state file";
    case SealedError::bad_version: return "unsupported sealed file version";
    case SealedError::bad_reserved: return "reserved byte not zero";
    case SealedError::bad_type: return "bad blob type";
    case SealedError::bad_length: return "length does not match the file size";
  }
  return "?";
}

}  // namespace mamori::vtpm::state
