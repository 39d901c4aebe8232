#include "vtpm/service/state/blob_check.hpp"

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::state {

namespace {

BlobCheck check_framed(const uint8_t* data, size_t len, uint32_t magic, uint16_t max_version,
                       size_t trailer_after_magic) {
  const size_t min_len = kNvHeaderSize + sizeof(uint32_t) + trailer_after_magic;
  if (len < min_len) return BlobCheck::too_short;
  const uint16_t version = protocol::load_be16(data);
  if (protocol::load_be32(data + 2) != magic) return BlobCheck::bad_magic;
  if (version == 0 || version > max_version) return BlobCheck::bad_version;
  const size_t trailer_at = len - trailer_after_magic - sizeof(uint32_t);
  if (protocol::load_be32(data + trailer_at) != magic) return BlobCheck::bad_trailer;
  return BlobCheck::ok;
}

}  // namespace

BlobCheck check_state_blob(protocol::BlobType type, const uint8_t* data, size_t len) {
  if (data == nullptr || len == 0) return BlobCheck::empty;
  if (len > kMaxStateBlob) return BlobCheck::too_large;
  switch (type) {
    case protocol::BlobType::permanent:
      return check_framed(data, len, kPersistentAllMagic, kMaxPermanentVersion, 0);
    case protocol::BlobType::volatile_state:
      return check_framed(data, len, kVolatileStateMagic, kMaxVolatileVersion, kVolatileDigestSize);
    case protocol::BlobType::savestate:
      return BlobCheck::unsupported_type;
  }
  return BlobCheck::unsupported_type;
}

const char* blob_check_name(BlobCheck c) {
  switch (c) {
    case BlobCheck::ok: return "ok";
    case BlobCheck::empty: return "empty blob";
    case BlobCheck::too_short: return "blob too short";
    case BlobCheck::too_large: return "blob too large";
    case BlobCheck::bad_magic: return "bad blob magic";
    case BlobCheck::bad_version: return "unsupported blob version";
    case BlobCheck::bad_trailer: return "bad blob trailer";
    case BlobCheck::unsupported_type: return "blob type not used by a TPM 2.0";
  }
  return "?";
}

}  // namespace mamori::vtpm::state
