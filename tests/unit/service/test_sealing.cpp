#include <catch.hpp>

#include <string>
#include <vector>

#include "vtpm/service/state/key_source.hpp"
#include "vtpm/service/state/sealed_format.hpp"
#include "vtpm/service/state/sealer.hpp"

using namespace mamori::vtpm;
using state::OpenError;

namespace {

state::SealingKey key_of(uint8_t v) {
  state::SealingKey k{};
  k.fill(v);
  return k;
}

constexpr uint8_t kNonce[state::kSealedNonceSize] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

}  // namespace

TEST_CASE("sealing: round trip, and the ciphertext is not the plaintext") {
  const std::vector<uint8_t> plain(1000, 0x42);
  const auto file = state::seal(key_of(7), protocol::BlobType::permanent, plain.data(), plain.size(), kNonce);
  REQUIRE(file.size() == state::kSealedHeaderSize + plain.size() + state::kSealedTagSize);
  CHECK(std::vector<uint8_t>(file.begin() + state::kSealedHeaderSize,
                             file.begin() + state::kSealedHeaderSize + 1000) != plain);
  std::vector<uint8_t> out;
  std::string detail;
  REQUIRE(state::open_sealed(key_of(7), protocol::BlobType::permanent, file.data(), file.size(), out, detail) ==
          OpenError::none);
  CHECK(out == plain);
}

TEST_CASE("sealing: wrong key, flipped bits anywhere, wrong type, truncation") {
  const std::vector<uint8_t> plain(64, 0x11);
  const auto file = state::seal(key_of(7), protocol::BlobType::volatile_state, plain.data(), plain.size(), kNonce);
  std::vector<uint8_t> out{0xEE};
  std::string detail;
  CHECK(state::open_sealed(key_of(8), protocol::BlobType::volatile_state, file.data(), file.size(), out, detail) ==
        OpenError::authentication);
  CHECK(out == std::vector<uint8_t>{0xEE});  // untouched on failure
  CHECK(state::open_sealed(key_of(7), protocol::BlobType::permanent, file.data(), file.size(), out, detail) ==
        OpenError::wrong_type);
  // Every single-bit flip in nonce, ciphertext or tag must be caught by GCM.
  for (size_t i = 16; i < file.size(); ++i) {
    auto bad = file;
    bad[i] ^= 0x01;
    CHECK(state::open_sealed(key_of(7), protocol::BlobType::volatile_state, bad.data(), bad.size(), out, detail) ==
          OpenError::authentication);
  }
  for (size_t cut = 0; cut < file.size(); cut += 7) {
    CHECK(state::open_sealed(key_of(7), protocol::BlobType::volatile_state, file.data(), cut, out, detail) ==
          OpenError::format);
  }
}

TEST_CASE("sealed header: format errors") {
  const std::vector<uint8_t> plain(8, 0);
  const auto file = state::seal(key_of(1), protocol::BlobType::permanent, plain.data(), plain.size(), kNonce);
  state::SealedHeader h{};
  REQUIRE(state::parse_sealed_header(file.data(), file.size(), h) == state::SealedError::none);
  CHECK(h.length == 8);
  CHECK(h.nonce[11] == 12);
  auto bad = file; bad[0] = 'X';
  CHECK(state::parse_sealed_header(bad.data(), bad.size(), h) == state::SealedError::bad_magic);
  bad = file; bad[9] = 2;
  CHECK(state::parse_sealed_header(bad.data(), bad.size(), h) == state::SealedError::bad_version);
  bad = file; bad[10] = 0;
  CHECK(state::parse_sealed_header(bad.data(), bad.size(), h) == state::SealedError::bad_type);
  bad = file; bad[11] = 1;
  CHECK(state::parse_sealed_header(bad.data(), bad.size(), h) == state::SealedError::bad_reserved);
  bad = file; bad[15] = 9;
  CHECK(state::parse_sealed_header(bad.data(), bad.size(), h) == state::SealedError::bad_length);
  bad = file; bad.push_back(0);
  CHECK(state::parse_sealed_header(bad.data(), bad.size(), h) == state::SealedError::bad_length);
}

TEST_CASE("key material: raw 32 bytes or 64 hex digits") {
  state::SealingKey k{};
  std::string err;
  CHECK(state::decode_key(std::string(32, 'A'), k, err));
  CHECK(k[0] == 'A');
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n";
  REQUIRE(state::decode_key(hex, k, err));
  CHECK(k[1] == 0x11);
  CHECK(k[31] == 0xFF);
  CHECK_FALSE(state::decode_key("abc", k, err));
  CHECK(err.find("32 raw bytes") != std::string::npos);
  std::string nonhex = hex;
  nonhex[3] = 'g';
  CHECK_FALSE(state::decode_key(nonhex, k, err));
  CHECK_FALSE(state::load_key("file:/nonexistent/key", k, err));
  CHECK_FALSE(state::load_key("env:KEY", k, err));
  CHECK_FALSE(state::load_key("fd:x1", k, err));
}
