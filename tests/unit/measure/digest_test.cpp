// SHA-1/256/384/512 against FIPS 180-4 example vectors (NIST CSRC "Examples
// with intermediate values") and against OpenSSL for every length up to
// three blocks, fed whole and in pieces.
#include <openssl/sha.h>

#include <catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/measure/hex.hpp"
#include "vmm/measure/digest.hpp"

using namespace mamori::measure;
using mamori::measure::test::hex;

namespace {
std::string h(HashAlg a, const std::string& m) {
  uint8_t out[kMaxDigestSize];
  hash(a, reinterpret_cast<const uint8_t*>(m.data()), m.size(), out);
  return hex(out, digest_size(a));
}
}  // namespace

TEST_CASE("FIPS 180-4 example vectors") {
  CHECK(h(HashAlg::Sha1, "abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(h(HashAlg::Sha1, "") == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(h(HashAlg::Sha1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(h(HashAlg::Sha256, "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(h(HashAlg::Sha256, "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(h(HashAlg::Sha256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(h(HashAlg::Sha384, "abc") ==
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  CHECK(h(HashAlg::Sha512, "abc") ==
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
        "454d4423643ce80e2a9ac94fa54ca49f");
  CHECK(h(HashAlg::Sha512, "") ==
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f"
        "63b931bd47417a81a538327af927da3e");
  const std::string million(1000000, 'a');
  CHECK(h(HashAlg::Sha384, million) ==
        "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985");
  CHECK(h(HashAlg::Sha512, million) ==
        "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31b"
        "eb009c5c2c49aa2e4eadb217ad8cc09b");
  CHECK(h(HashAlg::Sha1, million) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  CHECK(h(HashAlg::Sha256, million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("every length to 300 bytes, whole and split, equals OpenSSL") {
  std::vector<uint8_t> m(300);
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t n = 0; n <= m.size(); ++n) {
    uint8_t ref1[20], ref256[32], ref384[48], ref512[64], a[64], b[64];
    SHA1(m.data(), n, ref1);
    SHA256(m.data(), n, ref256);
    SHA384(m.data(), n, ref384);
    SHA512(m.data(), n, ref512);
    for (HashAlg alg : {HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512}) {
      hash(alg, m.data(), n, a);
      Hasher s(alg);
      const size_t cut = n / 3;
      s.update(m.data(), cut);
      s.update(m.data() + cut, 0);
      s.update(m.data() + cut, n - cut);
      s.final(b);
      const uint8_t* ref = alg == HashAlg::Sha1     ? ref1
                           : alg == HashAlg::Sha256 ? ref256
                           : alg == HashAlg::Sha384 ? ref384
                                                    : ref512;
      INFO("n=" << n << " alg=" << hash_name(alg));
      CHECK(hex(a, digest_size(alg)) == hex(ref, digest_size(alg)));
      CHECK(hex(b, digest_size(alg)) == hex(ref, digest_size(alg)));
    }
  }
}
