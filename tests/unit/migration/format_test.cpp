#include <catch.hpp>

#include "package_builder.hpp"
#include "vtpm/migration/format/ack.hpp"
#include "vtpm/migration/format/offer.hpp"
#include "vtpm/migration/format/package.hpp"
#include "vtpm/protocol/bytes.hpp"

using namespace mamori::vtpm::migration;
namespace protocol = mamori::vtpm::protocol;

TEST_CASE("protocol::ByteReader reads big-endian and latches on overrun") {
  const uint8_t d[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  protocol::ByteReader r(d, sizeof d);
  CHECK(r.u16() == 0x0102);
  CHECK(r.u32() == 0x03040506);
  CHECK(r.ok());
  CHECK(r.u16() == 0);  // only one byte left
  CHECK_FALSE(r.ok());
  CHECK(r.remaining() == 0);
  CHECK(r.bytes(1).data == nullptr);
}

TEST_CASE("protocol::ByteReader tpm2b refuses sizes over the declared maximum") {
  const uint8_t d[] = {0x00, 0x03, 'a', 'b', 'c'};
  protocol::ByteReader ok(d, sizeof d);
  protocol::ByteSpan s = ok.tpm2b(3);
  CHECK(ok.at_end());
  CHECK(s.size == 3);
  protocol::ByteReader small(d, sizeof d);
  small.tpm2b(2);
  CHECK_FALSE(small.ok());
}

TEST_CASE("protocol::ByteWriter never writes past its capacity") {
  uint8_t buf[5] = {};
  protocol::ByteWriter w(buf, sizeof buf);
  w.u32(0xAABBCCDD);
  CHECK(w.ok());
  w.u16(0x1122);
  CHECK_FALSE(w.ok());
  CHECK(buf[4] == 0);
}

TEST_CASE("a well-formed package parses and its spans cover it exactly") {
  auto p = test::build_package(100, 50, 8, 42);
  PackageView v;
  REQUIRE(parse_package(p.bytes.data(), p.bytes.size(), v) == ParseError::kOk);
  CHECK(v.header.epoch == 42);
  CHECK(v.header.permanent_len == 100);
  CHECK(v.header.volatile_len == 50);
  CHECK(v.header.savestate_len == 8);
  CHECK(v.state_size() == 158);
  CHECK(v.header.vm_id[0] == 0xA0);
  CHECK(v.header.nonce[1] == 3);
  CHECK(v.aad.size == p.aad_size);
  CHECK(v.mac_input.size + kHeaderMacSize == v.aad.size);
  CHECK(v.ciphertext.data == p.bytes.data() + p.aad_size);
  CHECK(v.ciphertext.size == 158);
  CHECK(v.tag.size == kGcmTagSize);
  CHECK(v.tag.data + kGcmTagSize == p.bytes.data() + p.bytes.size());
  CHECK(v.wrap.dup_public.size == 46);
  CHECK(v.wrap.dup_private.size == 108);
  CHECK(v.wrap.in_sym_seed.size == 256);
}

TEST_CASE("every truncation of a package is refused as truncated") {
  auto p = test::build_package();
  for (size_t n = 0; n < p.bytes.size(); ++n) {
    PackageView v;
    ParseError e = parse_package(p.bytes.data(), n, v);
    INFO("length " << n);
    CHECK(e == ParseError::kTruncated);
  }
}

TEST_CASE("trailing bytes are refused as oversized") {
  auto p = test::build_package();
  p.bytes.push_back(0);
  PackageView v;
  CHECK(parse_package(p.bytes.data(), p.bytes.size(), v) == ParseError::kOversized);
}

TEST_CASE("a blob size over the limit is refused before anything else") {
  auto p = test::build_package();
  // permanent_len sits after magic(4) version(2) flags(2) vm(16) nonce(32)
  // two 34-byte names with size prefixes (2*36) and epoch (8).
  size_t at = 4 + 2 + 2 + kVmIdSize + kNonceSize + 2 * 36 + 8;
  p.bytes[at] = 0x7F;
  PackageView v;
  CHECK(parse_package(p.bytes.data(), p.bytes.size(), v) == ParseError::kOversized);
}

TEST_CASE("a package larger than the package limit is refused") {
  std::vector<uint8_t> big(kMaxPackageSize + 1, 0);
  PackageView v;
  CHECK(parse_package(big.data(), big.size(), v) == ParseError::kOversized);
}

TEST_CASE("bad magic, unknown version and reserved flags are refused") {
  auto p = test::build_package();
  PackageView v;
  auto magic = p.bytes;
  magic[0] ^= 1;
  CHECK(parse_package(magic.data(), magic.size(), v) == ParseError::kBadMagic);
  auto version = p.bytes;
  version[5] = 2;
  CHECK(parse_package(version.data(), version.size(), v) == ParseError::kUnknownVersion);
  auto flags = p.bytes;
  flags[7] = 1;
  CHECK(parse_package(flags.data(), flags.size(), v) == ParseError::kMalformed);
}

TEST_CASE("a wrapped-key size over its structure's maximum is malformed, not truncated") {
  auto p = test::build_package();
  // dup_public's TPM2B size follows the header: magic..iv = 160 bytes
  size_t at = 4 + 2 + 2 + kVmIdSize + kNonceSize + 2 * 36 + 8 + 12 + kGcmIvSize;
  REQUIRE(p.bytes[at] == 0x00);
  REQUIRE(p.bytes[at + 1] == 46);
  p.bytes[at] = 0x7F;  // 32558 bytes > TPM2B_PUBLIC's maximum
  PackageView v;
  CHECK(parse_package(p.bytes.data(), p.bytes.size(), v) == ParseError::kMalformed);
}

TEST_CASE("a package without permanent state is malformed") {
  auto p = test::build_package(0, 10, 0);
  PackageView v;
  CHECK(parse_package(p.bytes.data(), p.bytes.size(), v) == ParseError::kMalformed);
}

TEST_CASE("names of the wrong size are malformed") {
  auto p = test::build_package();
  // source name size field right after nonce
  size_t at = 4 + 2 + 2 + kVmIdSize + kNonceSize;
  p.bytes[at + 1] = 33;
  PackageView v;
  ParseError e = parse_package(p.bytes.data(), p.bytes.size(), v);
  CHECK(e != ParseError::kOk);
}

TEST_CASE("ack round trip and refusals") {
  uint8_t vm[kVmIdSize], nonce[kNonceSize];
  for (size_t i = 0; i < kVmIdSize; ++i) vm[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < kNonceSize; ++i) nonce[i] = static_cast<uint8_t>(255 - i);
  std::vector<uint8_t> ack(kAckSize, 0xEE);
  write_ack_body(ack.data(), vm, nonce, 99);
  AckView a;
  REQUIRE(parse_ack(ack.data(), ack.size(), a) == ParseError::kOk);
  CHECK(a.epoch == 99);
  CHECK(a.vm_id[3] == 3);
  CHECK(a.nonce[0] == 255);
  CHECK(a.mac.size == kAckMacSize);
  CHECK(a.body.size == kAckBodySize);
  CHECK(parse_ack(ack.data(), ack.size() - 1, a) == ParseError::kTruncated);
  ack.push_back(0);
  CHECK(parse_ack(ack.data(), ack.size(), a) == ParseError::kOversized);
  ack.pop_back();
  ack[0] = 'X';
  CHECK(parse_ack(ack.data(), ack.size(), a) == ParseError::kBadMagic);
}

TEST_CASE("every parse error has a reason") {
  for (auto e : {ParseError::kOk, ParseError::kTruncated, ParseError::kOversized, ParseError::kBadMagic,
                 ParseError::kUnknownVersion, ParseError::kMalformed, ParseError::kBadPublicArea})
    CHECK(std::string(to_string(e)) != "?");
}
