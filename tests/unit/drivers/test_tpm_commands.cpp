// drivers/tpm TpmCommands over TisTransport and CrbTransport on the
// project's models and libtpms; PCR values checked against SHA-256
// computed here (OpenSSL); the response parsers against malformed bytes.
#include <openssl/sha.h>

#include <catch.hpp>
#include <cstring>
#include <memory>

#include "drivers/tpm/crb_transport.hpp"
#include "drivers/tpm/tis_transport.hpp"
#include "drivers/tpm/tpm_commands.hpp"
#include "tests/unit/drivers/transport_fixture.hpp"
#include "vtpm/crb/crb_device.hpp"
#include "vtpm/migration/tpm2/constants.hpp"
#include "vtpm/protocol/bytes.hpp"
#include "vtpm/tis/tis_device.hpp"

using namespace mamori;
using namespace mamori::drivers::tpm;
using test::LibtpmsBackend;
namespace t2 = vtpm::migration::tpm2;

namespace {
struct TisStack {
  LibtpmsBackend& engine = LibtpmsBackend::instance();
  std::unique_ptr<vtpm::tis::TisDevice> dev = std::make_unique<vtpm::tis::TisDevice>(engine, nullptr);
  test::ModelMmio<vtpm::tis::TisDevice> mmio{*dev};
  test::SimClock clock;
  TisTransport t{mmio, clock};
  std::unique_ptr<TpmCommands> cmds = std::make_unique<TpmCommands>(t);
};
struct CrbStack {
  LibtpmsBackend& engine = LibtpmsBackend::instance();
  std::unique_ptr<vtpm::crb::CrbDevice> dev = std::make_unique<vtpm::crb::CrbDevice>(engine, nullptr);
  test::ModelMmio<vtpm::crb::CrbDevice> mmio{*dev};
  test::SimClock clock;
  CrbTransport t{mmio, clock, vtpm::crb::kCrbBaseGpa};
  std::unique_ptr<TpmCommands> cmds = std::make_unique<TpmCommands>(t);
};

template <class Stack>
void exercise(Stack& s) {
  TpmCommands& c = *s.cmds;
  uint8_t a[48] = {}, b[48] = {};
  REQUIRE(c.get_random(a, sizeof a).ok());  // two commands: 32 + 16
  REQUIRE(c.get_random(b, sizeof b).ok());
  CHECK(std::memcmp(a, b, sizeof a) != 0);

  TpmProperties p;
  TpmStatus st = c.get_properties(p);
  REQUIRE(st.ok());
  CHECK(std::string(p.manufacturer) == "IBM");   // libtpms's TPM_PT_MANUFACTURER
  CHECK(std::string(p.vendor) == "SW   TPM");    // libtpms's TPM_PT_VENDOR_STRING_1..4
  CHECK(p.firmware1 != 0);

  PcrBanks banks;
  REQUIRE(c.get_pcr_banks(banks).ok());
  bool sha256 = false;
  for (size_t i = 0; i < banks.count; ++i) sha256 |= banks.alg[i] == t2::kAlgSha256 && banks.pcr_count[i] == 24;
  CHECK(sha256);

  // PCR_Extend semantics (Part 1 §17.2): new = H(old || digest).
  uint8_t before[32], after[32], d[32], expect[32];
  size_t n = 0;
  REQUIRE(c.pcr_read(t2::kAlgSha256, 23, before, sizeof before, n).ok());
  REQUIRE(n == 32);
  for (int i = 0; i < 32; ++i) d[i] = static_cast<uint8_t>(i * 7 + 1);
  REQUIRE(c.pcr_extend(23, t2::kAlgSha256, d, sizeof d).ok());
  REQUIRE(c.pcr_read(t2::kAlgSha256, 23, after, sizeof after, n).ok());
  uint8_t cat[64];
  std::memcpy(cat, before, 32);
  std::memcpy(cat + 32, d, 32);
  SHA256(cat, sizeof cat, expect);
  CHECK(std::memcmp(after, expect, 32) == 0);

  // Out-of-range PCRs and wrong-sized digests are refused before sending.
  CHECK(c.pcr_extend(24, t2::kAlgSha256, d, sizeof d).refused != nullptr);
  CHECK(c.pcr_extend(1, t2::kAlgSha256, d, 20).refused != nullptr);
}
}  // namespace

TEST_CASE("tpm commands over the FIFO transport on libtpms") {
  TisStack s;
  exercise(s);
  s.t.close();
}

TEST_CASE("tpm commands over the CRB transport on libtpms") {
  CrbStack s;
  exercise(s);
  s.t.close();
}

TEST_CASE("tpm commands: the storage key (CreatePrimary with the SRK template, FlushContext)") {
  TisStack s;
  uint32_t h1 = 0, h2 = 0;
  uint8_t n1[66], n2[66];
  size_t l1 = 0, l2 = 0;
  TpmStatus st = s.cmds->create_storage_key(false, h1, n1, sizeof n1, l1);
  REQUIRE(st.ok());
  CHECK((h1 >> 24) == 0x80);  // a transient object (Part 2 §7.2 TPM_HT_TRANSIENT)
  REQUIRE(l1 == 34);          // nameAlg SHA-256 + 32-byte digest
  CHECK(vtpm::protocol::load_be16(n1) == t2::kAlgSha256);
  // A primary key is derived from the hierarchy seed and the template:
  // created again it has the same Name.
  REQUIRE(s.cmds->create_storage_key(false, h2, n2, sizeof n2, l2).ok());
  CHECK(h2 != h1);
  CHECK(l2 == l1);
  CHECK(std::memcmp(n1, n2, l1) == 0);
  REQUIRE(s.cmds->flush_context(h1).ok());
  REQUIRE(s.cmds->flush_context(h2).ok());
  // Flushed: flushing again is the TPM's TPM_RC_HANDLE (format 1, parameter 1: 0x18B).
  st = s.cmds->flush_context(h1);
  CHECK(st.shape == ResponseStatus::tpm_error);
  CHECK((st.rc & 0xBF) == 0x08B);
  s.t.close();
}

TEST_CASE("tpm commands: a TPM error code is reported, not parsed as data") {
  TisStack s;
  // SM3 is not a libtpms PCR bank: an empty selection or an error, never a digest.
  uint8_t d[64];
  size_t n = 0;
  TpmStatus st = s.cmds->pcr_read(t2::kAlgSm3_256, 0, d, sizeof d, n);
  CHECK_FALSE(st.ok());
  CHECK(n == 0);
  CHECK(std::string(tpm_status_text(st)).size() > 0);
  s.t.close();
}

TEST_CASE("tpm command parsers refuse malformed parameters") {
  TpmProperties p;
  PcrBanks b;
  uint8_t d[64];
  size_t n = 0;
  // moreData, capability, count, then (property, value) pairs.
  const uint8_t props_ok[] = {0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 1, 5, 'I', 'N', 'T', 'C'};
  CHECK(parse_tpm_properties(props_ok, sizeof props_ok, p) == nullptr);
  CHECK(std::string(p.manufacturer) == "INTC");
  const uint8_t props_count_lies[] = {0, 0, 0, 0, 6, 0, 0, 0, 2, 0, 0, 1, 5, 'I', 'N', 'T', 'C'};
  CHECK(parse_tpm_properties(props_count_lies, sizeof props_count_lies, p) != nullptr);
  const uint8_t props_huge[] = {0, 0, 0, 0, 6, 0xFF, 0xFF, 0xFF, 0xFF};
  CHECK(parse_tpm_properties(props_huge, sizeof props_huge, p) != nullptr);
  const uint8_t wrong_cap[] = {0, 0, 0, 0, 5, 0, 0, 0, 0};
  CHECK(parse_tpm_properties(wrong_cap, sizeof wrong_cap, p) != nullptr);

  const uint8_t banks_ok[] = {0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 4, 3, 0, 0, 0, 0, 0x0B, 3, 0xFF, 0xFF, 0xFF};
  REQUIRE(parse_pcr_banks(banks_ok, sizeof banks_ok, b) == nullptr);
  CHECK(b.count == 1);  // sha1 implemented but not allocated
  CHECK(b.alg[0] == t2::kAlgSha256);
  CHECK(b.pcr_count[0] == 24);
  const uint8_t banks_select_huge[] = {0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0x0B, 0xFF};
  CHECK(parse_pcr_banks(banks_select_huge, sizeof banks_select_huge, b) != nullptr);
  const uint8_t banks_trailing[] = {0, 0, 0, 0, 5, 0, 0, 0, 0, 0};
  CHECK(parse_pcr_banks(banks_trailing, sizeof banks_trailing, b) != nullptr);

  // pcrUpdateCounter, selection (1 bank sha1, PCR 0), digests (count 1, size, bytes)
  uint8_t read_ok[4 + 4 + 6 + 4 + 2 + 20] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 4, 3, 1, 0, 0, 0, 0, 0, 1, 0, 20};
  CHECK(parse_pcr_read(read_ok, sizeof read_ok, t2::kAlgSha1, 0, d, n) == nullptr);
  CHECK(n == 20);
  CHECK(parse_pcr_read(read_ok, sizeof read_ok, t2::kAlgSha256, 0, d, n) != nullptr);  // other bank
  CHECK(parse_pcr_read(read_ok, sizeof read_ok, t2::kAlgSha1, 1, d, n) != nullptr);    // other PCR
  CHECK(parse_pcr_read(read_ok, sizeof read_ok - 1, t2::kAlgSha1, 0, d, n) != nullptr);
  read_ok[19] = 64;  // digest size no longer the bank's
  CHECK(parse_pcr_read(read_ok, sizeof read_ok, t2::kAlgSha1, 0, d, n) != nullptr);
  CHECK(n == 0);
}
