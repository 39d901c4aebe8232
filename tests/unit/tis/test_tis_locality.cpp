// TPM_ACCESS_x: request, pending, relinquish, seize, beenSeized; what a
// locality change does to a command.
#include <catch.hpp>

#include "tests/unit/tis/tis_fixture.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::tis;

namespace {
constexpr uint8_t kBase = access::kTpmRegValidSts | access::kTpmEstablishment;
}

TEST_CASE("requestUse grants a free TPM; others see pendingRequest", "[tis][locality]") {
  TisFixture t;
  t.request(0);
  CHECK(t.access(0) == (kBase | access::kActiveLocality));
  t.request(2);
  CHECK(t.access(2) == (kBase | access::kRequestUse));                  // waiting
  CHECK(t.access(0) == (kBase | access::kActiveLocality | access::kPendingRequest));
  CHECK(t.access(1) == (kBase | access::kPendingRequest));
  // Relinquish hands the TPM to the waiting locality.
  t.write_access(0, access::kActiveLocality);
  CHECK(t.access(0) == kBase);
  CHECK(t.access(2) == (kBase | access::kActiveLocality));
  CHECK(t.dev.active_locality() == 2);
}

TEST_CASE("a write with several ACCESS action bits is dropped", "[tis][locality]") {
  TisFixture t;
  t.write_access(0, access::kRequestUse | access::kSeize);
  CHECK(t.dev.active_locality() == kNoLocality);
  t.request(0);
  t.write_access(0, access::kActiveLocality | access::kRequestUse);
  CHECK(t.dev.active_locality() == 0);
}

TEST_CASE("Seize from a higher locality; beenSeized until cleared", "[tis][locality]") {
  TisFixture t;
  t.request(1);
  t.write_access(0, access::kSeize);  // lower: ignored
  CHECK(t.dev.active_locality() == 1);
  t.write_access(3, access::kSeize);
  CHECK(t.dev.active_locality() == 3);
  CHECK(t.access(1) == (kBase | access::kBeenSeized));
  CHECK((t.access(3) & access::kSeize) == 0);  // Seize reads as 0
  t.write_access(1, access::kBeenSeized);      // write 1 clears
  CHECK(t.access(1) == kBase);
}

TEST_CASE("seize during execution aborts the command and cancels it", "[tis][locality]") {
  TisFixture t;
  t.submit(get_random_cmd());
  REQUIRE(t.dev.state() == TisState::Execution);
  REQUIRE(t.backend.submissions.size() == 1);
  t.write_access(2, access::kSeize);
  CHECK(t.dev.state() == TisState::Idle);
  REQUIRE(t.backend.cancels.size() == 1);
  CHECK(t.backend.cancels[0] == t.backend.submissions[0].id);
  // The late response is dropped: locality 2 sees no data.
  t.backend.finish(0, make_response(0, {1, 2, 3}));
  CHECK(t.dev.state() == TisState::Idle);
  CHECK((t.sts(2) & sts::kDataAvail) == 0);
  CHECK(t.fifo_read(2) == 0xFF);
}

TEST_CASE("relinquish during reception or completion returns to Idle", "[tis][locality]") {
  TisFixture t;
  t.request(0);
  t.ready();
  t.fifo_write(0, {0x80, 0x01, 0, 0});
  REQUIRE(t.dev.state() == TisState::Reception);
  t.write_access(0, access::kActiveLocality);
  CHECK(t.dev.state() == TisState::Idle);
  CHECK(t.dev.command_received() == 0);

  t.submit(get_random_cmd());
  t.backend.finish(0, make_response(0, {9}));
  REQUIRE(t.dev.state() == TisState::Completion);
  t.write_access(0, access::kActiveLocality);
  CHECK(t.dev.state() == TisState::Idle);
  CHECK(t.backend.cancels.empty());  // nothing was running
}

TEST_CASE("registers of a non-active locality", "[tis][locality]") {
  TisFixture t;
  t.request(0);
  t.ready();
  // Locality 1 is not active: STS/FIFO float, writes change nothing.
  CHECK(t.sts(1) == 0xFFFFFFFFu);
  CHECK(t.sts8(1) == 0xFF);
  t.write_sts(1, sts::kCommandReady);
  t.fifo_write(1, {0x80, 0x01});
  CHECK(t.dev.command_received() == 0);
  CHECK(t.dev.dropped_fifo_bytes() == 2);
  t.dev.mmio_write(TisFixture::at(1, kIntStatus), 4, 0xFFFFFFFFu);
  // Identification registers answer at every locality.
  CHECK(t.dev.mmio_read(TisFixture::at(3, kDidVid), 4) == 0x00011014u);
  CHECK(t.dev.state() == TisState::Ready);
}

TEST_CASE("resetEstablishment only from localities 3 and 4", "[tis][locality]") {
  FakeBackend be;
  TisConfig cfg;
  cfg.established = true;
  cfg.locality_mask = 0x1F;  // the VMM grants locality 4 (as the processor would use it)
  TisDevice dev(be, nullptr, cfg);
  auto access = [&](uint8_t l) { return dev.mmio_read(l * kLocalityStride, 1); };
  CHECK((access(0) & access::kTpmEstablishment) == 0);  // established
  dev.mmio_write(0, 1, access::kRequestUse);
  dev.mmio_write(kSts.offset + 3, 1, sts::kResetEstablishment >> 24);
  CHECK((access(0) & access::kTpmEstablishment) == 0);  // locality 0: ignored
  dev.mmio_write(4 * kLocalityStride, 1, access::kSeize);
  dev.mmio_write(4 * kLocalityStride + kSts.offset, 4, sts::kResetEstablishment);
  CHECK((access(0) & access::kTpmEstablishment) != 0);
  // Locality 3 may reset it too.
  TisConfig cfg3;
  cfg3.established = true;
  TisDevice dev3(be, nullptr, cfg3);
  dev3.mmio_write(3 * kLocalityStride, 1, access::kRequestUse);
  dev3.mmio_write(3 * kLocalityStride + kSts.offset + 3, 1, sts::kResetEstablishment >> 24);
  CHECK((dev3.mmio_read(0, 1) & access::kTpmEstablishment) != 0);
}
