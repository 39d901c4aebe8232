#include "vtpm/service/state/swtpm_blob.hpp"

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::state {

namespace {

// Finds the TLV `tag` among the TLVs in [p, p+len); false if the TLVs do not
// tile the range exactly or the tag is absent. `encrypted` is set if a tag
// other than DATA / MIGRATION_DATA is present (swtpm's encrypted and HMAC tags).
bool find_tlv(const uint8_t* p, size_t len, uint16_t tag, const uint8_t** value, size_t* value_len,
              bool& other_tags) {
  bool found = false;
  size_t pos = 0;
  while (pos < len) {
    if (len - pos < kSwtpmTlvHeaderSize) return false;
    const uint16_t t = protocol::load_be16(p + pos);
    const uint32_t l = protocol::load_be32(p + pos + 2);
    pos += kSwtpmTlvHeaderSize;
    if (l > len - pos) return false;
    if (t == tag && !found) {
      *value = p + pos;
      *value_len = l;
      found = true;
    } else if (t != kSwtpmTagData && t != kSwtpmTagMigrationData) {
      other_tags = true;
    }
    pos += l;
  }
  return found;
}

}  // namespace

SwtpmBlob unwrap_swtpm_blob(const uint8_t* in, size_t len, const uint8_t** out, size_t* out_len) {
  if (in == nullptr || len < kSwtpmHeaderSize || in[0] != kSwtpmBlobVersion) return SwtpmBlob::not_swtpm;
  const uint8_t min_version = in[1];
  const uint16_t hdrsize = protocol::load_be16(in + 2);
  const uint16_t flags = protocol::load_be16(in + 4);
  const uint32_t totlen = protocol::load_be32(in + 6);
  if (min_version > kSwtpmBlobVersion || hdrsize < kSwtpmHeaderSize || hdrsize > len || totlen != len) {
    return SwtpmBlob::malformed;
  }
  if ((flags & (kSwtpmFlagEncrypted | kSwtpmFlagMigrationEncrypted)) != 0) return SwtpmBlob::encrypted;
  const uint8_t* body = in + hdrsize;
  size_t body_len = len - hdrsize;
  bool other_tags = false;
  const uint8_t* inner = nullptr;
  size_t inner_len = 0;
  if (find_tlv(body, body_len, kSwtpmTagMigrationData, &inner, &inner_len, other_tags)) {
    body = inner;
    body_len = inner_len;
  }
  const uint8_t* data = nullptr;
  size_t data_len = 0;
  const bool found = find_tlv(body, body_len, kSwtpmTagData, &data, &data_len, other_tags);
  if (other_tags) return SwtpmBlob::encrypted;
  if (!found) return SwtpmBlob::malformed;
  *out = data;
  *out_len = data_len;
  return SwtpmBlob::unwrapped;
}

}  // namespace mamori::vtpm::state
