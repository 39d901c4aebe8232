#include <catch.hpp>

#include <vector>

#include "vtpm/service/state/blob_check.hpp"
#include "vtpm/service/wire/byte_order.hpp"

using namespace mamori::vtpm;
using state::BlobCheck;
using wire::BlobType;

namespace {

// A blob shaped like libtpms' permanent state: version, magic, body, magic.
std::vector<uint8_t> permanent_blob(uint16_t version, size_t body) {
  std::vector<uint8_t> b(6 + body + 4, 0xA5);
  wire::store_be16(b.data(), version);
  wire::store_be32(b.data() + 2, state::kPersistentAllMagic);
  wire::store_be32(b.data() + 6 + body, state::kPersistentAllMagic);
  return b;
}

std::vector<uint8_t> volatile_blob(size_t body) {
  std::vector<uint8_t> b(6 + body + 4 + state::kVolatileDigestSize, 0x5A);
  wire::store_be16(b.data(), 4);
  wire::store_be32(b.data() + 2, state::kVolatileStateMagic);
  wire::store_be32(b.data() + 6 + body, state::kVolatileStateMagic);
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
