// The heart of the migration, against a real TPM (swtpm/libtpms): a
// duplication blob built in software is accepted by TPM2_Import under an
// SRK created from the standard template, loads, and unseals to the same
// K — for RSA-2048 and ECC P-256 parents. And the TPM refuses what it must.
#include <catch.hpp>

#include "swtpm_process.hpp"
#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/crypto/duplicate.hpp"
#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/protocol/srk.hpp"
#include "vtpm/migration/tpm/tpm_client.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

using namespace mamori::vtpm::migration;
using crypto::span;
using crypto::Bytes;

namespace {

constexpr uint32_t kRcIntegrity = 0x09F;  // Part 2 §6.6.3 TPM_RC_INTEGRITY

Bytes import_and_unseal(tpm::TpmClient& tpm, uint32_t parent, const crypto::DuplicationBlob& b) {
  Bytes priv = tpm.import(parent, span(b.object_public), span(b.duplicate), span(b.in_sym_seed));
  uint32_t h = tpm.load(parent, span(priv), span(b.object_public));
  ScopedHandle guard(tpm, h);
  return tpm.unseal(h);
}

}  // namespace

TEST_CASE("swtpm imports, loads and unseals software-built duplication blobs") {
  test::SwtpmProcess sw("dup");
  auto t = tpm::open_transport(sw.data_spec());
  tpm::TpmClient tpm(*t);
  Bytes entropy = tpm.get_random(48);
  REQUIRE(entropy.size() == 48);
  crypto::Drbg rng(span(entropy));

  for (SrkKind kind : {SrkKind::kRsa2048, SrkKind::kEccP256}) {
    DYNAMIC_SECTION("parent " << to_string(SrkSpec{kind, 0})) {
      Srk srk_obj(tpm, SrkSpec{kind, 0});
      const tpm::LoadedKey& srk = srk_obj.key();
      tpm2::PublicArea parent;
      REQUIRE(tpm2::parse_public(srk.public_area.data(), srk.public_area.size(), parent) == tpm2::PublicError::kOk);
      CHECK(parent.attributes == tpm2::kSrkAttributes);
      // A primary key from the same template is the same key (same Name).
      CHECK(Srk(tpm, SrkSpec{kind, 0}).name() == srk.name);

      for (int i = 0; i < 3; ++i) {
        Bytes k = rng.generate(32);
        crypto::DuplicationBlob blob = crypto::wrap_to_parent(parent, span(k), rng);
        CHECK(import_and_unseal(tpm, srk.handle, blob) == k);
      }

      Bytes k = rng.generate(32);
      crypto::DuplicationBlob blob = crypto::wrap_to_parent(parent, span(k), rng);
      SECTION("a modified duplicate fails the TPM's integrity check") {
        crypto::DuplicationBlob bad = blob;
        bad.duplicate[bad.duplicate.size() - 1] ^= 0x01;
        try {
          import_and_unseal(tpm, srk.handle, bad);
          FAIL("tampered duplicate accepted");
        } catch (const tpm::TpmError& e) {
          CHECK(e.base() == kRcIntegrity);
        }
      }
      SECTION("a modified public area (a different Name) fails integrity") {
        crypto::DuplicationBlob bad = blob;
        bad.object_public[bad.object_public.size() - 1] ^= 0x01;
        CHECK_THROWS_AS(import_and_unseal(tpm, srk.handle, bad), tpm::TpmError);
      }
      SECTION("a modified seed does not import") {
        crypto::DuplicationBlob bad = blob;
        bad.in_sym_seed[bad.in_sym_seed.size() / 2] ^= 0x01;
        CHECK_THROWS_AS(import_and_unseal(tpm, srk.handle, bad), tpm::TpmError);
      }
    }
  }
}

TEST_CASE("a blob wrapped to another TPM's SRK does not import") {
  test::SwtpmProcess a("a"), b("b");
  auto ta = tpm::open_transport(a.data_spec());
  auto tb = tpm::open_transport(b.data_spec());
  tpm::TpmClient tpm_a(*ta), tpm_b(*tb);
  Bytes entropy = tpm_a.get_random(48);
  crypto::Drbg rng(span(entropy));
  Srk sa(tpm_a, SrkSpec{SrkKind::kEccP256, 0});
  Srk sb(tpm_b, SrkSpec{SrkKind::kEccP256, 0});
  const tpm::LoadedKey& srk_a = sa.key();
  const tpm::LoadedKey& srk_b = sb.key();
  CHECK(srk_a.name != srk_b.name);  // different TPMs, different primary seeds
  tpm2::PublicArea parent_a;
  REQUIRE(tpm2::parse_public(srk_a.public_area.data(), srk_a.public_area.size(), parent_a) == tpm2::PublicError::kOk);
  Bytes k = rng.generate(32);
  crypto::DuplicationBlob blob = crypto::wrap_to_parent(parent_a, span(k), rng);
  CHECK_THROWS_AS(import_and_unseal(tpm_b, srk_b.handle, blob), tpm::TpmError);
  CHECK(import_and_unseal(tpm_a, srk_a.handle, blob) == k);
}

TEST_CASE("a persistent SRK (ReadPublic) receives duplicates; bad handles are refused") {
  test::SwtpmProcess sw("persist");
  auto t = tpm::open_transport(sw.data_spec());
  tpm::TpmClient tpm(*t);
  CHECK_THROWS_AS(Srk(tpm, SrkSpec{SrkKind::kPersistent, kDefaultSrkHandle}), tpm::TpmError);  // nothing there yet
  {
    tpm::LoadedKey primary = tpm.create_primary(tpm2::srk_template_rsa2048());
    tpm.evict_control(primary.handle, kDefaultSrkHandle);
    tpm.flush(primary.handle);
  }
  Srk srk(tpm, parse_srk_spec("0x81000001"));
  CHECK(srk.handle() == kDefaultSrkHandle);
  CHECK(srk.name() == Srk(tpm, SrkSpec{SrkKind::kRsa2048, 0}).name());  // the same key as the template's
  tpm2::PublicArea parent;
  REQUIRE(tpm2::parse_public(srk.key().public_area.data(), srk.key().public_area.size(), parent) ==
          tpm2::PublicError::kOk);
  Bytes entropy = tpm.get_random(48);
  crypto::Drbg rng(span(entropy));
  Bytes k = rng.generate(32);
  CHECK(import_and_unseal(tpm, srk.handle(), crypto::wrap_to_parent(parent, span(k), rng)) == k);
  CHECK_THROWS_AS(parse_srk_spec("0x80000001"), MigrationError);
  CHECK_THROWS_AS(parse_srk_spec("dsa"), MigrationError);
}

TEST_CASE("NV counter: define once, increments only move forward") {
  test::SwtpmProcess sw("nv");
  auto t = tpm::open_transport(sw.data_spec());
  tpm::TpmClient tpm(*t);
  constexpr uint32_t kIndex = 0x01500123;
  CHECK(tpm.nv_define_counter(kIndex));
  CHECK_FALSE(tpm.nv_define_counter(kIndex));  // already there: reused
  CHECK((tpm.nv_attributes(kIndex) & tpm2::kNvTypeMask) == tpm2::kNvTypeCounter);
  tpm.nv_increment(kIndex);
  uint64_t a = tpm.nv_read_counter(kIndex);
  tpm.nv_increment(kIndex);
  uint64_t b = tpm.nv_read_counter(kIndex);
  CHECK(b == a + 1);
  CHECK_THROWS_AS(tpm.nv_read_counter(0x01500124), tpm::TpmError);  // undefined index
  CHECK_THROWS_AS(tpm.nv_define_counter(0x81000001), MigrationError);  // not an NV handle
}

TEST_CASE("policy session: PolicyCommandCode digest matches the software computation") {
  test::SwtpmProcess sw("pol");
  auto t = tpm::open_transport(sw.data_spec());
  tpm::TpmClient tpm(*t);
  uint32_t s = tpm.start_policy_session();
  CHECK((s >> 24) == 0x03);  // TPM_HT_POLICY_SESSION
  CHECK(tpm.policy_get_digest(s) == Bytes(32, 0));
  tpm.policy_command_code(s, tpm2::kCcUnseal);
  // Part 3 §23.11: policyDigest_new = H(policyDigest_old || TPM_CC_PolicyCommandCode || code)
  Bytes in(32, 0);
  for (uint32_t v : {tpm2::kCcPolicyCommandCode, tpm2::kCcUnseal})
    for (int i = 3; i >= 0; --i) in.push_back(static_cast<uint8_t>(v >> (8 * i)));
  CHECK(tpm.policy_get_digest(s) == crypto::sha256(span(in)));
  tpm.flush(s);
}

TEST_CASE("GetRandom returns what was asked, across several calls") {
  test::SwtpmProcess sw("rng");
  auto t = tpm::open_transport(sw.data_spec());
  tpm::TpmClient tpm(*t);
  Bytes r = tpm.get_random(100);
  CHECK(r.size() == 100);
  CHECK(r != Bytes(100, 0));
}

TEST_CASE("owner authorization: a TPM whose owner hierarchy has a password") {
  test::SwtpmProcess sw("owner");
  auto t = tpm::open_transport(sw.data_spec());
  tpm::TpmClient tpm(*t);
  const std::string pw = "mamori-owner";
  tpm.change_owner_auth(span(pw));
  {
    tpm::TpmClient no_auth(*t);  // same TPM, no password configured
    try {
      Srk srk(no_auth, SrkSpec{SrkKind::kEccP256, 0});
      FAIL("CreatePrimary without the owner password succeeded");
    } catch (const tpm::TpmError& e) {
      CHECK(e.base() == 0x0A2);  // TPM_RC_BAD_AUTH (noDA owner) — Part 2 §6.6.3
    }
  }
  Srk srk(tpm, SrkSpec{SrkKind::kEccP256, 0});
  CHECK(srk.name().size() == 34);
  CHECK(tpm.nv_define_counter(0x01500200));
  tpm.nv_increment(0x01500200);
  CHECK(tpm.nv_read_counter(0x01500200) > 0);
}
