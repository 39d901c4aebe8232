// drivers/tpm TisTransport against vtpm/tis TisDevice on libtpms, and
// against TisDevice made hostile by a read filter (PTP FIFO interface).
#include <algorithm>
#include <catch.hpp>
#include <memory>

#include "drivers/tpm/tis_transport.hpp"
#include "tests/unit/drivers/transport_fixture.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/tis/tis_device.hpp"

using namespace mamori;
using drivers::tpm::TisTransport;
using drivers::tpm::TpmError;
using drivers::tpm::TpmTimeouts;
using test::LibtpmsBackend;

namespace {
namespace sts = vtpm::tis::sts;
namespace access = vtpm::tis::access;
constexpr uint64_t kSts = vtpm::tis::kSts.offset, kFifo = vtpm::tis::kDataFifo.offset;

struct Tis {
  LibtpmsBackend& engine = LibtpmsBackend::instance();
  std::unique_ptr<vtpm::tis::TisDevice> dev;
  std::unique_ptr<test::ModelMmio<vtpm::tis::TisDevice>> mmio;
  test::SimClock clock;
  TisTransport t;
  explicit Tis(LibtpmsBackend::Mode mode = LibtpmsBackend::Mode::Immediate)
      : dev(make_dev(engine, mode)), mmio(std::make_unique<test::ModelMmio<vtpm::tis::TisDevice>>(*dev)),
        t(*mmio, clock) {}
  ~Tis() {
    // A submission the test left in the engine must not outlive the model.
    engine.run_pending();
    engine.set_mode(LibtpmsBackend::Mode::Immediate);
  }
  static std::unique_ptr<vtpm::tis::TisDevice> make_dev(LibtpmsBackend& e, LibtpmsBackend::Mode mode) {
    e.run_pending();
    e.set_mode(mode);
    return std::make_unique<vtpm::tis::TisDevice>(e, nullptr);
  }
};

std::vector<uint8_t> run(Tis& f, const std::vector<uint8_t>& cmd) {
  std::vector<uint8_t> rsp;
  REQUIRE(test::transact(f.t, cmd, rsp) == TpmError::None);
  return rsp;
}
}  // namespace

TEST_CASE("tis transport: GetRandom and PCR round trips on libtpms") {
  Tis f;
  REQUIRE(f.t.open() == TpmError::None);
  CHECK_FALSE(f.t.found_active());
  CHECK(f.dev->active_locality() == 0);  // requested and granted

  std::vector<uint8_t> rsp = run(f, test::make_get_random(32));
  CHECK(test::response_code(rsp) == vtpm::protocol::kTpmRcSuccess);
  REQUIRE(rsp.size() == 10 + 2 + 32);
  CHECK(vtpm::protocol::load_be16(rsp.data() + 10) == 32);

  // Extend PCR 16 through the driver; its PCR_Read through the driver must
  // be byte for byte what libtpms answers directly.
  CHECK(test::response_code(run(f, test::make_pcr_extend_sha256(16, 0xA5))) == 0);
  std::vector<uint8_t> via_driver = run(f, test::make_pcr_read_sha256(16));
  std::vector<uint8_t> direct = f.engine.execute(test::make_pcr_read_sha256(16));
  CHECK(test::response_code(via_driver) == 0);
  CHECK(via_driver == direct);
  CHECK(f.dev->state() == vtpm::tis::TisState::Ready);  // commandReady after the response

  f.t.close();
  CHECK(f.dev->active_locality() == vtpm::kNoLocality);  // given back: it was not ours
}

TEST_CASE("tis transport: keeps a locality the firmware holds (OVMF keeps locality 0)") {
  Tis f;
  f.dev->mmio_write(0, 1, access::kRequestUse);  // the firmware's request
  REQUIRE(f.dev->active_locality() == 0);
  REQUIRE(f.t.open() == TpmError::None);
  CHECK(f.t.found_active());
  CHECK(test::response_code(run(f, test::make_get_random(8))) == 0);
  f.t.close();
  CHECK(f.dev->active_locality() == 0);
}

TEST_CASE("tis transport: a locality held by another is not granted within TIMEOUT_A") {
  Tis f;
  f.dev->mmio_write(2 * vtpm::kLocalityStride, 1, access::kRequestUse);  // locality 2 holds it
  REQUIRE(f.dev->active_locality() == 2);
  CHECK(f.t.open() == TpmError::LocalityTimeout);
  CHECK(f.clock.now >= TpmTimeouts{}.a_us);
  CHECK(f.clock.now < 2 * TpmTimeouts{}.a_us);
  CHECK(f.dev->active_locality() == 2);
  // The request was withdrawn: locality 2 relinquishing does not hand it to us.
  f.dev->mmio_write(2 * vtpm::kLocalityStride, 1, access::kActiveLocality);
  CHECK(f.dev->active_locality() == vtpm::kNoLocality);
}

TEST_CASE("tis transport: deferred engine completes while the driver polls") {
  Tis f(LibtpmsBackend::Mode::Deferred);
  int ran = 0;
  f.clock.on_sleep = [&] { ran += static_cast<int>(f.engine.run_pending()); };
  std::vector<uint8_t> rsp = run(f, test::make_get_random(16));
  CHECK(test::response_code(rsp) == 0);
  CHECK(rsp.size() == 10 + 2 + 16);
  CHECK(ran == 1);
}

TEST_CASE("tis transport: an engine that never answers times out and is canceled") {
  Tis f(LibtpmsBackend::Mode::Deferred);  // nothing runs the engine: dataAvail never comes
  TpmTimeouts t;
  const uint64_t cancels = f.engine.cancels();
  std::vector<uint8_t> rsp;
  CHECK(test::transact(f.t, test::make_get_random(16), rsp) == TpmError::CommandTimeout);
  CHECK(rsp.empty());
  CHECK(f.clock.now >= t.command_us + t.b_us);
  CHECK(f.clock.now < t.command_us + t.b_us + 10'000);  // bounded: no hang, no extra waits
  // commandCancel was written, then commandReady aborted the command.
  const std::pair<uint64_t, uint32_t> cancel{kSts + 3, sts::kCommandCancel >> 24}, ready{kSts, sts::kCommandReady};
  auto at = std::find(f.mmio->writes.begin(), f.mmio->writes.end(), cancel);
  REQUIRE(at != f.mmio->writes.end());
  CHECK(std::find(at, f.mmio->writes.end(), ready) != f.mmio->writes.end());
  CHECK(f.engine.cancels() > cancels);  // the model passed it on to the engine
  // The command was aborted with commandReady; once the engine returns it,
  // the next command works.
  f.engine.run_pending();
  f.engine.set_mode(LibtpmsBackend::Mode::Immediate);
  CHECK(test::response_code(run(f, test::make_get_random(4))) == 0);
}

TEST_CASE("tis transport: response larger than the caller's buffer is refused and the TPM recovers") {
  Tis f;
  std::vector<uint8_t> rsp;
  CHECK(test::transact(f.t, test::make_get_random(32), rsp, 20) == TpmError::ResponseTooLarge);
  CHECK(f.dev->state() == vtpm::tis::TisState::Ready);
  CHECK(test::response_code(run(f, test::make_get_random(4))) == 0);
}

TEST_CASE("tis transport: malformed commands never reach the TPM") {
  Tis f;
  const uint64_t before = f.engine.submissions();
  std::vector<uint8_t> cmd = test::make_get_random(8), rsp;
  cmd.push_back(0);  // one byte more than its size field
  CHECK(test::transact(f.t, cmd, rsp) == TpmError::CommandMalformed);
  cmd.resize(6);
  CHECK(test::transact(f.t, cmd, rsp) == TpmError::CommandMalformed);
  CHECK(f.engine.submissions() == before);
}

TEST_CASE("tis transport: hostile devices give errors within their timeouts") {
  TpmTimeouts t;
  SECTION("burstCount 0 forever") {
    Tis f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) {
      return off == kSts ? v & ~(sts::kBurstCountMax << sts::kBurstCountShift) : v;
    };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::BurstCountTimeout);
    CHECK(f.clock.now >= t.a_us);
    CHECK(f.clock.now < t.a_us + 10'000);
  }
  SECTION("stsValid never") {
    Tis f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) { return off == kSts ? v & ~sts::kStsValid : v; };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::StsValidTimeout);
    CHECK(f.clock.now >= t.c_us);
    CHECK(f.clock.now < t.c_us + 10'000);
  }
  SECTION("response size field 0xFFFFFFFF") {
    Tis f;
    int fifo_reads = 0;
    f.mmio->filter = [&](uint64_t off, uint8_t, uint32_t v) {
      if (off != kFifo) return v;
      ++fifo_reads;
      return (fifo_reads >= 3 && fifo_reads <= 6) ? 0xFFu : v;  // bytes 2..5 of the response
    };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ResponseTooLarge);
    CHECK(fifo_reads == 10);  // the header only: nothing read on the lying size's word
    CHECK(f.clock.now < 10'000);
  }
  SECTION("response size field 0") {
    Tis f;
    int fifo_reads = 0;
    f.mmio->filter = [&](uint64_t off, uint8_t, uint32_t v) {
      if (off != kFifo) return v;
      ++fifo_reads;
      return (fifo_reads >= 3 && fifo_reads <= 6) ? 0u : v;
    };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ResponseMalformed);
  }
  SECTION("response size field larger than the bytes the TPM has") {
    Tis f;
    int fifo_reads = 0;
    f.mmio->filter = [&](uint64_t off, uint8_t, uint32_t v) {
      if (off != kFifo) return v;
      ++fifo_reads;
      return fifo_reads == 6 ? v + 4 : v;  // low byte of the size: 4 more than sent
    };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ResponseShort);
    CHECK(f.clock.now < 10'000);
  }
  SECTION("response size field smaller than the bytes the TPM has") {
    Tis f;
    int fifo_reads = 0;
    f.mmio->filter = [&](uint64_t off, uint8_t, uint32_t v) {
      if (off != kFifo) return v;
      ++fifo_reads;
      return fifo_reads == 6 ? v - 2 : v;
    };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ResponseOverrun);
  }
  SECTION("Expect cleared before the last byte") {
    Tis f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) { return off == kSts ? v & ~sts::kExpect : v; };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ExpectMismatch);
  }
  SECTION("floating bus") {
    Tis f;
    f.mmio->filter = [](uint64_t, uint8_t size, uint32_t) { return size == 1 ? 0xFFu : 0xFFFFFFFFu; };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::NoDevice);
    CHECK(f.clock.now == 0);
  }
  SECTION("commandReady never set") {
    Tis f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) { return off == kSts ? v & ~sts::kCommandReady : v; };
    std::vector<uint8_t> rsp;
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ReadyTimeout);
    CHECK(f.clock.now >= t.b_us);
    CHECK(f.clock.now < t.b_us + 10'000);
  }
}
