#include <catch.hpp>

#include <vector>

#include "vtpm/service/state/blob_check.hpp"
#include "vtpm/protocol/bytes.hpp"

using namespace mamori::vtpm;
using state::BlobCheck;
using protocol::BlobType;

namespace {

// A blob shaped like libtpms' permanent state: version, magic, body, magic.
std::vector<uint8_t> permanent_blob(uint16_t version, size_t body) {
  std::vector<uint8_t> b(6 + body + 4, 0xA5);
  protocol::store_be16(b.data(), version);
  protocol::store_be32(b.data() + 2, state::kPersistentAllMagic);
  protocol::store_be32(b.data() + 6 + body, state::kPersistentAllMagic);
  return b;
}

std::vector<uint8_t> volatile_blob(size_t body) {
  std::vector<uint8_t> b(6 + body + 4 + state::kVolatileDigestSize, 0x5A);
  protocol::store_be16(b.data(), 4);
  protocol::store_be32(b.data() + 2, state::kVolatileStateMagic);
  protocol::store_be32(b.data() + 6 + body, state::kVolatileStateMagic);
  return b;
}

}  // namespace

TEST_CASE("blob check: well-formed permanent and volatile blobs pass") {
  auto p = permanent_blob(3, 800);
  CHECK(state::check_state_blob(BlobType::permanent, p.data(), p.size()) == BlobCheck::ok);
  auto v = volatile_blob(8000);
  CHECK(state::check_state_blob(BlobType::volatile_state, v.data(), v.size()) == BlobCheck::ok);
  // The type must match the magic.
  CHECK(state::check_state_blob(BlobType::volatile_state, p.data(), p.size()) == BlobCheck::bad_magic);
}

TEST_CASE("blob check: truncation, corruption and size limits") {
  auto p = permanent_blob(3, 800);
  CHECK(state::check_state_blob(BlobType::permanent, p.data(), 0) == BlobCheck::empty);
  CHECK(state::check_state_blob(BlobType::permanent, nullptr, 10) == BlobCheck::empty);
  CHECK(state::check_state_blob(BlobType::permanent, p.data(), 9) == BlobCheck::too_short);
  CHECK(state::check_state_blob(BlobType::permanent, p.data(), p.size() - 1) == BlobCheck::bad_trailer);
  auto bad = p; bad[3] ^= 1;
  CHECK(state::check_state_blob(BlobType::permanent, bad.data(), bad.size()) == BlobCheck::bad_magic);
  auto v0 = permanent_blob(0, 10);
  CHECK(state::check_state_blob(BlobType::permanent, v0.data(), v0.size()) == BlobCheck::bad_version);
  auto vhuge = permanent_blob(0xFFFF, 10);
  CHECK(state::check_state_blob(BlobType::permanent, vhuge.data(), vhuge.size()) == BlobCheck::bad_version);
  std::vector<uint8_t> big(state::kMaxStateBlob + 1);
  CHECK(state::check_state_blob(BlobType::permanent, big.data(), big.size()) == BlobCheck::too_large);
  CHECK(state::check_state_blob(BlobType::savestate, p.data(), p.size()) == BlobCheck::unsupported_type);
}

#include "vtpm/service/state/swtpm_blob.hpp"

namespace {

void put16(std::vector<uint8_t>& v, uint16_t x) { v.push_back(uint8_t(x >> 8)); v.push_back(uint8_t(x)); }
void put32(std::vector<uint8_t>& v, uint32_t x) { put16(v, uint16_t(x >> 16)); put16(v, uint16_t(x)); }

// swtpm 0.7.1's layout: header, MIGRATION_DATA TLV holding a DATA TLV.
std::vector<uint8_t> swtpm_envelope(const std::vector<uint8_t>& payload, uint16_t flags = 0,
                                    uint16_t inner_tag = state::kSwtpmTagData) {
  std::vector<uint8_t> data_tlv;
  put16(data_tlv, inner_tag);
  put32(data_tlv, static_cast<uint32_t>(payload.size()));
  data_tlv.insert(data_tlv.end(), payload.begin(), payload.end());
  std::vector<uint8_t> out = {state::kSwtpmBlobVersion, 1};
  put16(out, state::kSwtpmHeaderSize);
  put16(out, flags);
  put32(out, static_cast<uint32_t>(state::kSwtpmHeaderSize + state::kSwtpmTlvHeaderSize + data_tlv.size()));
  put16(out, state::kSwtpmTagMigrationData);
  put32(out, static_cast<uint32_t>(data_tlv.size()));
  out.insert(out.end(), data_tlv.begin(), data_tlv.end());
  return out;
}

}  // namespace

TEST_CASE("swtpm envelope: unwrapped, refused when encrypted or malformed, raw blobs pass through") {
  const auto inner = permanent_blob(3, 100);
  const uint8_t* out = nullptr;
  size_t out_len = 0;
  auto env = swtpm_envelope(inner);
  REQUIRE(state::unwrap_swtpm_blob(env.data(), env.size(), &out, &out_len) == state::SwtpmBlob::unwrapped);
  CHECK(std::vector<uint8_t>(out, out + out_len) == inner);
  CHECK(state::unwrap_swtpm_blob(inner.data(), inner.size(), &out, &out_len) == state::SwtpmBlob::not_swtpm);
  auto enc = swtpm_envelope(inner, state::kSwtpmFlagEncrypted);
  CHECK(state::unwrap_swtpm_blob(enc.data(), enc.size(), &out, &out_len) == state::SwtpmBlob::encrypted);
  auto enc_tag = swtpm_envelope(inner, 0, 2);  // TAG_ENCRYPTED_DATA
  CHECK(state::unwrap_swtpm_blob(enc_tag.data(), enc_tag.size(), &out, &out_len) == state::SwtpmBlob::encrypted);
  auto short_env = env;
  short_env.pop_back();
  CHECK(state::unwrap_swtpm_blob(short_env.data(), short_env.size(), &out, &out_len) == state::SwtpmBlob::malformed);
  auto lying = env;
  lying[state::kSwtpmHeaderSize + 5] ^= 0x40;  // MIGRATION_DATA length beyond the blob
  CHECK(state::unwrap_swtpm_blob(lying.data(), lying.size(), &out, &out_len) == state::SwtpmBlob::malformed);
  auto bad_hdr = env;
  bad_hdr[3] = 200;  // hdrsize past the end
  CHECK(state::unwrap_swtpm_blob(bad_hdr.data(), 150, &out, &out_len) == state::SwtpmBlob::malformed);
}
