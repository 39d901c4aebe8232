// OVMF's TPM FIFO driver (edk2 Tpm2Tis.c) against the TIS model on libtpms:
// byte-wise burstCount reads, whole-command bursts, locality kept.
#include <catch.hpp>

#include "tests/unit/common/libtpms_backend.hpp"
#include "tests/unit/common/ovmf_tis_driver.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/tis/tis_device.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::tis;

namespace {
struct Rig {
  LibtpmsBackend& backend = LibtpmsBackend::instance();
  TisDevice dev{backend, nullptr};
  LoggedPort<TisDevice> port{dev};
  OvmfTisDriver driver{port, [this] { backend.run_pending(); }};
  explicit Rig(LibtpmsBackend::Mode m = LibtpmsBackend::Mode::Immediate) { backend.set_mode(m); }
  ~Rig() { backend.set_mode(LibtpmsBackend::Mode::Immediate); }
};
}  // namespace

TEST_CASE("OVMF: request use, GetRandom, PCR_Extend, locality kept", "[tis][ovmf]") {
  Rig rig;
  std::string err;
  REQUIRE(rig.driver.request_use(err));
  std::vector<uint8_t> rsp;
  REQUIRE(rig.driver.command(make_get_random(32), rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(rsp.size() == 44);
  CHECK(rig.backend.last_command() == make_get_random(32));
  REQUIRE(rig.driver.command(make_pcr_extend_sha256(16, 1), rsp, err));
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(rig.dev.active_locality() == 0);
  CHECK(rig.dev.state() == TisState::Ready);  // commandReady after each command
  CHECK(rig.dev.stats().rejected == 0);
  // The burstCount bytes were read one at a time at 0x19 and 0x1A.
  size_t burst_byte_reads = 0;
  for (const auto& r : rig.port.log) {
    if (!r.write && r.size == 1 && (r.offset == 0x19 || r.offset == 0x1A)) ++burst_byte_reads;
  }
  CHECK(burst_byte_reads >= 4);
}

TEST_CASE("OVMF: engine finishing later is polled", "[tis][ovmf]") {
  Rig rig(LibtpmsBackend::Mode::Deferred);
  std::string err;
  REQUIRE(rig.driver.request_use(err));
  std::vector<uint8_t> rsp;
  REQUIRE(rig.driver.command(make_get_random(8), rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(load_be16(rsp.data() + 10) == 8);
}

TEST_CASE("OVMF: a response larger than one burst", "[tis][ovmf]") {
  Rig rig;
  std::string err;
  REQUIRE(rig.driver.request_use(err));
  std::vector<uint8_t> rsp;
  // TPM2_GetRandom returns at most the largest digest (64 bytes in libtpms).
  REQUIRE(rig.driver.command(make_get_random(64), rsp, err));
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(rsp.size() == size_t{12} + load_be16(rsp.data() + 10));
}
