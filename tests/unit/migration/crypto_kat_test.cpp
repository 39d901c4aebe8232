// Known-answer tests of the crypto layer. Vectors: FIPS 180-2 (SHA-256
// "abc"), RFC 4231 test case 2 (HMAC-SHA-256), the GCM specification
// (McGrew & Viega) test cases 13/14 (AES-256-GCM); AES-CFB, KDFa and KDFe
// answers were computed with independent implementations (OpenSSL's
// `openssl enc -aes-*-cfb`, Python's hmac/hashlib following TPM 2.0 Part 1
// §11.4.10.2/§11.4.10.3), see the comments at each vector.
#include <catch.hpp>

#include "hex.hpp"
#include "vtpm/migration/crypto/crypto.hpp"

using namespace mamori::vtpm::migration;
using namespace mamori::vtpm::migration::crypto;
using test::iota;
using test::unhex;

TEST_CASE("SHA-256 FIPS 180-2 abc") {
  CHECK(sha256(span("abc")) == unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

TEST_CASE("HMAC-SHA-256 RFC 4231 test case 2") {
  CHECK(hmac_sha256(span("Jefe"), span("what do ya want for nothing?")) ==
        unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  // split input gives the same MAC
  CHECK(hmac_sha256(span("Jefe"), span("what do ya want "), span("for nothing?")) ==
        unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

TEST_CASE("KDFa SHA-256 known answers") {
  Bytes key = iota(32);
  Bytes name = unhex("000b");
  Bytes d = iota(32, 100);
  name.insert(name.end(), d.begin(), d.end());
  // python: kdfa(bytes(range(32)), b'STORAGE', name, b'', 128)
  CHECK(kdfa_sha256(span(key), "STORAGE", span(name), {}, 128) == unhex("d98939313878365f823837e2ce0286ca"));
  CHECK(kdfa_sha256(span(key), "INTEGRITY", {}, {}, 256) ==
        unhex("bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e"));
  // multi-block output (600 bits = 3 HMAC blocks, truncated)
  CHECK(kdfa_sha256(span(key), "LBL", span("abc"), span("de"), 600) ==
        unhex("32790a610708da0681aeca49d82f4f3977238ef99161d724d45419b8db675f10ea6853ef1659d5948893605d21bfb43dbbc0"
              "175d8b385792c2d8082af8dececcbaef03457f00f849a45707"));
}

TEST_CASE("KDFe SHA-256 known answers") {
  Bytes z = iota(32), u = iota(32, 32), v = iota(32, 64);
  CHECK(kdfe_sha256(span(z), "DUPLICATE", span(u), span(v), 256) ==
        unhex("7d7b51277e3b72dc3b93a7c4fdaa9af3866e235d61d16c50bcb353b77694e72d"));
  CHECK(kdfe_sha256(span(z), "DUPLICATE", span(u), span(v), 520) ==
        unhex("7d7b51277e3b72dc3b93a7c4fdaa9af3866e235d61d16c50bcb353b77694e72d0950d3bb91c0d8a9e83703187189196bfcc8b"
              "09a814a596a99cad92f3b364d3bbc"));
}

TEST_CASE("AES-CFB with zero IV known answers (OpenSSL)") {
  // openssl enc -aes-128-cfb -K 000102..0f -iv 0 on 40 zero bytes
  Bytes k128 = iota(16);
  Bytes zeros(40, 0);
  Bytes c = aes_cfb_encrypt(span(k128), span(zeros));
  CHECK(c == unhex("c6a13b37878f5b826f4f8162a1c8d879af9d9926f7dac87192b1c4143ad989581d2bd041b903bc5f"));
  CHECK(aes_cfb_decrypt(span(k128), span(c)) == zeros);
  // openssl enc -aes-256-cfb -K 000102..1f -iv 0 on bytes 0..36
  Bytes k256 = iota(32);
  Bytes p = iota(37);
  Bytes c2 = aes_cfb_encrypt(span(k256), span(p));
  CHECK(c2 == unhex("f29102b52e4c99d7a1fa9061d123798f8af4819cc14fd031e0499c25bf6d87cb83381f33ab"));
  CHECK(aes_cfb_decrypt(span(k256), span(c2)) == p);
  Bytes bad(24, 0);
  CHECK_THROWS(aes_cfb_encrypt(span(bad), span(p)));
}

TEST_CASE("AES-256-GCM GCM-spec test cases 13 and 14") {
  Bytes key(32, 0), iv(12, 0);
  uint8_t tag[16];
  // Test case 13: empty plaintext
  aes256_gcm_encrypt(span(key), span(iv), {}, {}, nullptr, tag);
  CHECK(Bytes(tag, tag + 16) == unhex("530f8afbc74536b9a963b4f1c4cb738b"));
  // Test case 14: one zero block
  Bytes p(16, 0), c(16);
  aes256_gcm_encrypt(span(key), span(iv), {}, span(p), c.data(), tag);
  CHECK(c == unhex("cea7403d4d606b6e074ec5d3baf39d18"));
  CHECK(Bytes(tag, tag + 16) == unhex("d0d1c8a799996bf0265b98b5d48ab919"));
  Bytes out(16, 0xFF);
  CHECK(aes256_gcm_decrypt(span(key), span(iv), {}, span(c), {tag, 16}, out.data()));
  CHECK(out == p);
}

TEST_CASE("AES-256-GCM refuses any modified byte of aad, ciphertext or tag") {
  Bytes key = iota(32), iv = iota(12), aad = iota(20, 7), p = iota(33, 9), c(33);
  uint8_t tag[16];
  aes256_gcm_encrypt(span(key), span(iv), span(aad), span(p), c.data(), tag);
  Bytes out(33);
  REQUIRE(aes256_gcm_decrypt(span(key), span(iv), span(aad), span(c), {tag, 16}, out.data()));
  CHECK(out == p);
  for (size_t i = 0; i < aad.size(); ++i) {
    Bytes a = aad;
    a[i] ^= 0x01;
    CHECK_FALSE(aes256_gcm_decrypt(span(key), span(iv), span(a), span(c), {tag, 16}, out.data()));
  }
  for (size_t i = 0; i < c.size(); ++i) {
    Bytes cc = c;
    cc[i] ^= 0x80;
    CHECK_FALSE(aes256_gcm_decrypt(span(key), span(iv), span(aad), span(cc), {tag, 16}, out.data()));
    CHECK(out == Bytes(33, 0));  // no plaintext released on failure
  }
  uint8_t t2[16];
  std::copy(tag, tag + 16, t2);
  t2[15] ^= 1;
  CHECK_FALSE(aes256_gcm_decrypt(span(key), span(iv), span(aad), span(c), {t2, 16}, out.data()));
}

TEST_CASE("the DRBG gives different streams per instance and long requests work") {
  Bytes e(48, 0x5A);
  Drbg a(span(e)), b(span(e));
  Bytes x = a.generate(64), y = b.generate(64);
  CHECK(x != y);  // the CPU source differs even when the TPM bytes are equal
  Bytes big = a.generate(5000);
  CHECK(big.size() == 5000);
  CHECK(std::count(big.begin(), big.end(), uint8_t{0}) < 200);
}
