// drivers/tpm CrbTransport against vtpm/crb CrbDevice on libtpms (buffer in
// the register page and in a page of its own), and against CrbDevice made
// hostile by a read filter (PTP CRB interface).
#include <catch.hpp>
#include <memory>

#include "drivers/tpm/crb_transport.hpp"
#include "tests/unit/drivers/transport_fixture.hpp"
#include "vtpm/crb/crb_device.hpp"
#include "vtpm/protocol/tpm_header.hpp"

using namespace mamori;
using drivers::tpm::CrbTransport;
using drivers::tpm::TpmError;
using drivers::tpm::TpmTimeouts;
using test::LibtpmsBackend;

namespace {
namespace crb = vtpm::crb;
constexpr uint64_t kBase = crb::kCrbBaseGpa;
constexpr uint64_t kSeparatePage = 0x7F000000;  // where the test "maps" the separate buffer

struct Crb {
  LibtpmsBackend& engine = LibtpmsBackend::instance();
  std::unique_ptr<crb::CrbDevice> dev;
  std::unique_ptr<test::ModelMmio<crb::CrbDevice>> mmio;
  test::SimClock clock;
  CrbTransport t;
  explicit Crb(LibtpmsBackend::Mode mode = LibtpmsBackend::Mode::Immediate, uint64_t buffer_page = 0)
      : dev(make_dev(engine, mode, buffer_page)), mmio(std::make_unique<test::ModelMmio<crb::CrbDevice>>(*dev)),
        t(*mmio, clock, kBase) {
    if (buffer_page) {
      mmio->extra = dev->buffer_page();
      mmio->extra_off = buffer_page - kBase;
      mmio->extra_size = crb::kBufferPageSize;
    }
  }
  ~Crb() {
    engine.run_pending();
    engine.set_mode(LibtpmsBackend::Mode::Immediate);
  }
  static std::unique_ptr<crb::CrbDevice> make_dev(LibtpmsBackend& e, LibtpmsBackend::Mode mode, uint64_t page) {
    e.run_pending();
    e.set_mode(mode);
    crb::CrbConfig c;
    c.buffer_page_gpa = page;
    return std::make_unique<crb::CrbDevice>(e, nullptr, c);
  }
};

std::vector<uint8_t> run(Crb& f, const std::vector<uint8_t>& cmd) {
  std::vector<uint8_t> rsp;
  REQUIRE(test::transact(f.t, cmd, rsp) == TpmError::None);
  return rsp;
}

void round_trips(Crb& f) {
  std::vector<uint8_t> rsp = run(f, test::make_get_random(32));
  CHECK(test::response_code(rsp) == 0);
  REQUIRE(rsp.size() == 10 + 2 + 32);
  CHECK(test::response_code(run(f, test::make_pcr_extend_sha256(16, 0x5A))) == 0);
  std::vector<uint8_t> via_driver = run(f, test::make_pcr_read_sha256(16));
  CHECK(test::response_code(via_driver) == 0);
  CHECK(via_driver == f.engine.execute(test::make_pcr_read_sha256(16)));
}
}  // namespace

TEST_CASE("crb transport: round trips with the buffer in the register page") {
  Crb f;
  REQUIRE(f.dev->state() == crb::CrbState::Idle);
  REQUIRE(f.t.open() == TpmError::None);
  CHECK(f.t.found_idle());
  CHECK_FALSE(f.t.found_active());
  CHECK(f.t.command_size() == crb::kDataBufferSize);
  CHECK(f.dev->state() == crb::CrbState::Ready);
  round_trips(f);
  f.t.close();
  CHECK(f.dev->state() == crb::CrbState::Idle);                // as found
  CHECK(f.dev->active_locality() == vtpm::kNoLocality);        // as found
}

TEST_CASE("crb transport: round trips with a separate buffer page") {
  Crb f(LibtpmsBackend::Mode::Immediate, kSeparatePage);
  REQUIRE(f.t.open() == TpmError::None);
  CHECK(f.t.command_size() == crb::kBufferPageSize);
  round_trips(f);
  f.t.close();
}

TEST_CASE("crb transport: keeps the firmware's locality and Ready state") {
  Crb f;
  f.dev->mmio_write(crb::kLocCtrl.offset, 4, crb::loc_ctrl::kRequestAccess);
  f.dev->mmio_write(crb::kCtrlReq.offset, 4, crb::ctrl_req::kCmdReady);
  REQUIRE(f.dev->active_locality() == 0);
  REQUIRE(f.t.open() == TpmError::None);
  CHECK(f.t.found_active());
  CHECK_FALSE(f.t.found_idle());
  CHECK(test::response_code(run(f, test::make_get_random(8))) == 0);
  f.t.close();
  CHECK(f.dev->active_locality() == 0);
  CHECK(f.dev->state() != crb::CrbState::Idle);
}

TEST_CASE("crb transport: deferred engine completes while the driver polls") {
  Crb f(LibtpmsBackend::Mode::Deferred);
  f.clock.on_sleep = [&] { f.engine.run_pending(); };
  std::vector<uint8_t> rsp = run(f, test::make_get_random(16));
  CHECK(rsp.size() == 10 + 2 + 16);
}

TEST_CASE("crb transport: START never cleared times out, cancels, and recovers") {
  Crb f(LibtpmsBackend::Mode::Deferred);
  TpmTimeouts t;
  const uint64_t cancels = f.engine.cancels();
  std::vector<uint8_t> rsp;
  CHECK(test::transact(f.t, test::make_get_random(16), rsp) == TpmError::CommandTimeout);
  CHECK(f.clock.now >= t.command_us + t.b_us);
  CHECK(f.clock.now < t.command_us + t.b_us + 10'000);
  CHECK(f.engine.cancels() == cancels + 1);
  f.engine.run_pending();  // the engine answers (late): START clears
  f.engine.set_mode(LibtpmsBackend::Mode::Immediate);
  CHECK(test::response_code(run(f, test::make_get_random(4))) == 0);
}

TEST_CASE("crb transport: hostile devices give errors, never hangs") {
  TpmTimeouts t;
  std::vector<uint8_t> rsp;
  SECTION("response size field 0xFFFFFFFF") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t size, uint32_t v) {
      return (off == crb::kDataBuffer && size == 4) ? (v & 0xFFFFu) | 0xFFFF0000u  // size bytes 2..3
             : (off == crb::kDataBuffer + 4 && size == 4) ? v | 0x0000FFFFu       // size bytes 4..5
                                                          : v;
    };
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ResponseTooLarge);
    CHECK(f.clock.now < 10'000);
  }
  SECTION("response size field 0") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t size, uint32_t v) {
      return (off == crb::kDataBuffer && size == 4) ? v & 0xFFFFu
             : (off == crb::kDataBuffer + 4 && size == 4) ? v & 0xFFFF0000u
                                                          : v;
    };
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::ResponseMalformed);
  }
  SECTION("command larger than the TPM's buffer") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) { return off == crb::kCmdSize.offset ? 11u : v; };  // GetRandom is 12 bytes
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::CommandTooLarge);
  }
  SECTION("buffer over the control registers") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) {
      return off == crb::kCmdLaddr.offset ? static_cast<uint32_t>(kBase + crb::kCtrlReq.offset) : v;
    };
    CHECK(f.t.open() == TpmError::BadInterface);
    CHECK(f.dev->active_locality() == vtpm::kNoLocality);  // request withdrawn
  }
  SECTION("zero buffer size") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) { return off == crb::kRspSize.offset ? 0u : v; };
    CHECK(f.t.open() == TpmError::BadInterface);
  }
  SECTION("cmdReady never completes") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) {
      return off == crb::kCtrlSts.offset ? v | crb::ctrl_sts::kTpmIdle : v;
    };
    CHECK(f.t.open() == TpmError::ReadyTimeout);
    CHECK(f.clock.now >= t.c_us);
    CHECK(f.clock.now < t.c_us + 10'000);
  }
  SECTION("fatal error reported") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) {
      return off == crb::kCtrlSts.offset ? v | crb::ctrl_sts::kTpmSts : v;
    };
    CHECK(test::transact(f.t, test::make_get_random(8), rsp) == TpmError::TpmFatal);
  }
  SECTION("locality never granted") {
    Crb f;
    f.mmio->filter = [](uint64_t off, uint8_t, uint32_t v) { return off == crb::kLocSts.offset ? 0u : v; };
    CHECK(f.t.open() == TpmError::LocalityTimeout);
    CHECK(f.clock.now >= t.a_us);
    CHECK(f.clock.now < t.a_us + 10'000);
  }
  SECTION("floating bus") {
    Crb f;
    f.mmio->filter = [](uint64_t, uint8_t size, uint32_t) { return size == 1 ? 0xFFu : 0xFFFFFFFFu; };
    CHECK(f.t.open() == TpmError::NoDevice);
  }
}
