// The software duplication blob, opened again in software the way
// TPM2_Import does (Part 3 §13.3 / Part 1 §23.3): recover the seed with the
// parent's private key, check the outer HMAC, decrypt, and check that the
// sensitive area holds K and matches the public area's unique field.
// (tests/integration/migration proves a real swtpm accepts the same blobs.)
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>

#include <catch.hpp>

#include "hex.hpp"
#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/crypto/duplicate.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

using namespace mamori::vtpm::migration;
using namespace mamori::vtpm::migration::tpm2;
namespace protocol = mamori::vtpm::protocol;
using mamori::vtpm::migration::crypto::Bytes;
using crypto::span;

namespace {

struct Opened {
  Bytes data;
  Bytes seed_value;
};

// Parses TPM2B_SENSITIVE of a keyedhash object.
Opened open_sensitive(const Bytes& s2b) {
  protocol::ByteReader r(s2b.data(), s2b.size());
  uint16_t size = r.u16();
  REQUIRE(size == s2b.size() - 2);
  REQUIRE(r.u16() == kAlgKeyedHash);
  REQUIRE(r.tpm2b(64).size == 0);  // authValue empty
  protocol::ByteSpan seed = r.tpm2b(64);
  protocol::ByteSpan data = r.tpm2b(128);
  REQUIRE(r.at_end());
  return {Bytes(data.data, data.data + data.size), Bytes(seed.data, seed.data + seed.size)};
}

void check_object(const crypto::DuplicationBlob& blob, const Opened& o, const Bytes& k) {
  CHECK(o.data == k);
  CHECK(o.seed_value.size() == 32);
  PublicArea pub;
  REQUIRE(parse_public(blob.object_public.data(), blob.object_public.size(), pub) == PublicError::kOk);
  CHECK(pub.type == kAlgKeyedHash);
  CHECK((pub.attributes & (kObjFixedTpm | kObjFixedParent)) == 0);  // duplicable
  CHECK((pub.attributes & (kObjSign | kObjDecrypt)) == 0);          // sealed data
  Bytes unique(pub.unique_digest.data, pub.unique_digest.data + pub.unique_digest.size);
  CHECK(unique == crypto::sha256(span(o.seed_value), span(k)));
  CHECK(blob.name == crypto::object_name(span(blob.object_public)));
}

int rng_cb(void* p, unsigned char* out, size_t n) { return crypto::Drbg::callback(p, out, n); }

}  // namespace

TEST_CASE("outer wrap round-trips and detects tampering of blob or name") {
  Bytes seed = test::iota(32), name = crypto::object_name(span(test::iota(40))), sens = test::iota(70, 5);
  Bytes dup = crypto::outer_wrap(span(seed), 128, span(name), span(sens));
  CHECK(dup.size() == 2 + 32 + sens.size());
  Bytes back;
  REQUIRE(crypto::outer_unwrap(span(seed), 128, span(name), span(dup), back));
  CHECK(back == sens);
  for (size_t i = 0; i < dup.size(); i += 7) {
    Bytes d = dup;
    d[i] ^= 0x04;
    Bytes x;
    CHECK_FALSE(crypto::outer_unwrap(span(seed), 128, span(name), span(d), x));
  }
  Bytes other = name;
  other[5] ^= 1;
  CHECK_FALSE(crypto::outer_unwrap(span(seed), 128, span(other), span(dup), back));
  Bytes wrong_seed = seed;
  wrong_seed[0] ^= 1;
  CHECK_FALSE(crypto::outer_unwrap(span(wrong_seed), 128, span(name), span(dup), back));
}

TEST_CASE("RSA-2048 parent: seed by RSA-OAEP(SHA-256, \"DUPLICATE\\0\") opens to K") {
  Bytes entropy(48, 1);
  crypto::Drbg rng(span(entropy));
  mbedtls_rsa_context rsa;
  mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
  REQUIRE(mbedtls_rsa_gen_key(&rsa, rng_cb, &rng, 2048, 65537) == 0);
  Bytes n(256);
  REQUIRE(mbedtls_rsa_export_raw(&rsa, n.data(), n.size(), nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0) == 0);
  PublicArea parent = srk_template_rsa2048();
  parent.unique_rsa = span(n);

  Bytes k = rng.generate(32);
  crypto::DuplicationBlob blob = crypto::wrap_to_parent(parent, span(k), rng);
  REQUIRE(blob.in_sym_seed.size() == 256);

  Bytes seed(256);
  size_t olen = 0;
  static const char label[] = "DUPLICATE";  // with its NUL
  REQUIRE(mbedtls_rsa_rsaes_oaep_decrypt(&rsa, rng_cb, &rng, MBEDTLS_RSA_PRIVATE,
                                         reinterpret_cast<const unsigned char*>(label), sizeof label, &olen,
                                         blob.in_sym_seed.data(), seed.data(), seed.size()) == 0);
  seed.resize(olen);
  CHECK(seed.size() == 32);
  // The label without its NUL must not decrypt: the TPM would reject it.
  Bytes tmp(256);
  CHECK(mbedtls_rsa_rsaes_oaep_decrypt(&rsa, rng_cb, &rng, MBEDTLS_RSA_PRIVATE,
                                       reinterpret_cast<const unsigned char*>(label), sizeof label - 1, &olen,
                                       blob.in_sym_seed.data(), tmp.data(), tmp.size()) != 0);
  Bytes sens;
  REQUIRE(crypto::outer_unwrap(span(seed), 128, span(blob.name), span(blob.duplicate), sens));
  check_object(blob, open_sensitive(sens), k);
  mbedtls_rsa_free(&rsa);
}

TEST_CASE("ECC P-256 parent: seed by ECDH + KDFe opens to K") {
  Bytes entropy(48, 2);
  crypto::Drbg rng(span(entropy));
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q, qe, zpt;
  mbedtls_mpi d;
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&q);
  mbedtls_ecp_point_init(&qe);
  mbedtls_ecp_point_init(&zpt);
  mbedtls_mpi_init(&d);
  REQUIRE(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) == 0);
  REQUIRE(mbedtls_ecp_gen_keypair(&grp, &d, &q, rng_cb, &rng) == 0);
  Bytes qx(32), qy(32);
  REQUIRE(mbedtls_mpi_write_binary(&q.X, qx.data(), 32) == 0);
  REQUIRE(mbedtls_mpi_write_binary(&q.Y, qy.data(), 32) == 0);
  PublicArea parent = srk_template_ecc_p256();
  parent.unique_x = span(qx);
  parent.unique_y = span(qy);

  Bytes k = rng.generate(32);
  crypto::DuplicationBlob blob = crypto::wrap_to_parent(parent, span(k), rng);
  // inSymSeed is a TPMS_ECC_POINT
  protocol::ByteReader r(blob.in_sym_seed.data(), blob.in_sym_seed.size());
  protocol::ByteSpan ex = r.tpm2b(128), ey = r.tpm2b(128);
  REQUIRE(r.at_end());
  REQUIRE(ex.size == 32);
  REQUIRE(mbedtls_mpi_read_binary(&qe.X, ex.data, ex.size) == 0);
  REQUIRE(mbedtls_mpi_read_binary(&qe.Y, ey.data, ey.size) == 0);
  REQUIRE(mbedtls_mpi_lset(&qe.Z, 1) == 0);
  mbedtls_mpi z;
  mbedtls_mpi_init(&z);
  REQUIRE(mbedtls_ecdh_compute_shared(&grp, &z, &qe, &d, rng_cb, &rng) == 0);
  Bytes zx(32);
  REQUIRE(mbedtls_mpi_write_binary(&z, zx.data(), 32) == 0);
  Bytes seed = crypto::kdfe_sha256(span(zx), "DUPLICATE", ex, span(qx), 256);
  Bytes sens;
  REQUIRE(crypto::outer_unwrap(span(seed), 128, span(blob.name), span(blob.duplicate), sens));
  check_object(blob, open_sensitive(sens), k);
  mbedtls_mpi_free(&z);
  mbedtls_mpi_free(&d);
  mbedtls_ecp_point_free(&zpt);
  mbedtls_ecp_point_free(&qe);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
}

TEST_CASE("wrapping refuses unusable parents") {
  Bytes entropy(48, 3);
  crypto::Drbg rng(span(entropy));
  Bytes k(32, 9);
  PublicArea no_key = srk_template_rsa2048();  // empty modulus
  CHECK_THROWS(crypto::wrap_to_parent(no_key, span(k), rng));
  PublicArea signer = srk_template_rsa2048();
  signer.attributes = kObjSign;
  CHECK_THROWS(crypto::wrap_to_parent(signer, span(k), rng));
  Bytes x(32, 1), y(32, 2);  // not on the curve
  PublicArea off_curve = srk_template_ecc_p256();
  off_curve.unique_x = span(x);
  off_curve.unique_y = span(y);
  CHECK_THROWS(crypto::wrap_to_parent(off_curve, span(k), rng));
  Bytes n(256, 0xFF);
  PublicArea rsa = srk_template_rsa2048();
  rsa.unique_rsa = span(n);
  CHECK_THROWS(crypto::wrap_to_parent(rsa, {}, rng));  // empty secret
}
