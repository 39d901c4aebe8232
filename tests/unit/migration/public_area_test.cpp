#include <catch.hpp>
#include <vector>

#include "vtpm/migration/format/offer.hpp"
#include "vtpm/migration/tpm2/constants.hpp"
#include "vtpm/migration/tpm2/public_area.hpp"

using namespace mamori::vtpm::migration;
using namespace mamori::vtpm::migration::tpm2;
namespace protocol = mamori::vtpm::protocol;

namespace {
std::vector<uint8_t> marshal(const PublicArea& p) {
  std::vector<uint8_t> b(1024);
  protocol::ByteWriter w(b.data(), b.size());
  REQUIRE(write_public(w, p));
  b.resize(w.size());
  return b;
}
}  // namespace

TEST_CASE("the RSA SRK template marshals to the Provisioning Guidance bytes") {
  // type RSA, nameAlg SHA256, attributes 0x00030472, empty policy,
  // AES-128-CFB, scheme NULL, 2048 bits, exponent 0, empty unique.
  const std::vector<uint8_t> expect = {0x00, 0x01, 0x00, 0x0B, 0x00, 0x03, 0x04, 0x72, 0x00, 0x00, 0x00, 0x06, 0x00,
                                       0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  CHECK(marshal(srk_template_rsa2048()) == expect);
}

TEST_CASE("the ECC SRK template marshals to the Provisioning Guidance bytes") {
  const std::vector<uint8_t> expect = {0x00, 0x23, 0x00, 0x0B, 0x00, 0x03, 0x04, 0x72, 0x00, 0x00, 0x00,
                                       0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10,
                                       0x00, 0x00, 0x00, 0x00};
  CHECK(marshal(srk_template_ecc_p256()) == expect);
}

TEST_CASE("public areas round-trip and are storage parents") {
  for (PublicArea t : {srk_template_rsa2048(), srk_template_ecc_p256()}) {
    auto b = marshal(t);
    PublicArea p;
    REQUIRE(parse_public(b.data(), b.size(), p) == PublicError::kOk);
    CHECK(p.type == t.type);
    CHECK(p.attributes == kSrkAttributes);
    CHECK(p.is_storage_parent());
    CHECK(marshal(p) == b);
  }
}

TEST_CASE("public area refusals") {
  auto b = marshal(srk_template_rsa2048());
  PublicArea p;
  for (size_t n = 0; n < b.size(); ++n) CHECK(parse_public(b.data(), n, p) != PublicError::kOk);
  auto extra = b;
  extra.push_back(0);
  CHECK(parse_public(extra.data(), extra.size(), p) == PublicError::kTrailingBytes);
  auto sym = b;
  sym[1] = 0x25;  // TPM_ALG_SYMCIPHER: not supported here
  CHECK(parse_public(sym.data(), sym.size(), p) == PublicError::kUnsupportedType);
  auto hash = b;
  hash[3] = 0x0C;  // SHA-384 name
  CHECK(parse_public(hash.data(), hash.size(), p) == PublicError::kUnsupportedAlgorithm);
  PublicArea signer = srk_template_rsa2048();
  signer.attributes = kObjSign | kObjUserWithAuth;
  signer.symmetric = {kAlgNull, 0, 0};
  CHECK_FALSE(signer.is_storage_parent());
}

TEST_CASE("an offer round-trips and refuses non-storage keys and bad names") {
  uint8_t nonce[kNonceSize] = {1, 2, 3};
  uint8_t modulus[256];
  for (auto& m : modulus) m = 0xC3;
  PublicArea t = srk_template_rsa2048();
  t.unique_rsa = {modulus, sizeof modulus};
  auto pub = marshal(t);
  uint8_t name[34] = {0x00, 0x0B};
  std::vector<uint8_t> offer(2048);
  size_t n = write_offer(offer.data(), offer.size(), nonce, {pub.data(), pub.size()}, {name, sizeof name});
  REQUIRE(n > 0);
  offer.resize(n);
  OfferView v;
  REQUIRE(parse_offer(offer.data(), offer.size(), v) == ParseError::kOk);
  CHECK(v.nonce.data[2] == 3);
  CHECK(v.srk_public.unique_rsa.size == 256);
  CHECK(v.srk_name.size == 34);
  for (size_t k = 0; k < offer.size(); ++k) CHECK(parse_offer(offer.data(), k, v) != ParseError::kOk);

  PublicArea signer = t;
  signer.attributes = kObjSign | kObjUserWithAuth | kObjFixedTpm;
  auto spub = marshal(signer);
  std::vector<uint8_t> bad(2048);
  n = write_offer(bad.data(), bad.size(), nonce, {spub.data(), spub.size()}, {name, sizeof name});
  bad.resize(n);
  CHECK(parse_offer(bad.data(), bad.size(), v) == ParseError::kBadPublicArea);

  std::vector<uint8_t> shortname(2048);
  n = write_offer(shortname.data(), shortname.size(), nonce, {pub.data(), pub.size()}, {name, 20});
  shortname.resize(n);
  CHECK(parse_offer(shortname.data(), shortname.size(), v) == ParseError::kMalformed);
}
