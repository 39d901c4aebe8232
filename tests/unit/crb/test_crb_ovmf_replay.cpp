// OVMF's PTP probing and CRB driver (edk2 Tpm2Ptp.c) against the models on
// libtpms: interface detection for both models, byte-wise buffer traffic,
// writes to the (read-only) buffer address registers, goIdle after each
// command.
#include <catch.hpp>

#include "tests/unit/common/libtpms_backend.hpp"
#include "tests/unit/common/ovmf_crb_driver.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/crb/crb_device.hpp"
#include "vtpm/tis/tis_device.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::crb;

TEST_CASE("OVMF detects CRB on the CRB model and FIFO on the TIS model", "[crb][ovmf]") {
  auto& be = LibtpmsBackend::instance();
  CrbDevice crb(be, nullptr);
  LoggedPort<CrbDevice> crb_port(crb);
  CHECK(ovmf_detect_interface(crb_port) == PtpInterface::Crb);
  tis::TisDevice tis(be, nullptr);
  LoggedPort<tis::TisDevice> tis_port(tis);
  CHECK(ovmf_detect_interface(tis_port) == PtpInterface::Fifo);
  CHECK(crb.stats().rejected == 0);
  CHECK(tis.stats().rejected == 0);
}

TEST_CASE("OVMF CRB: GetRandom and PCR_Extend; address writes ignored", "[crb][ovmf]") {
  auto& be = LibtpmsBackend::instance();
  CrbDevice dev(be, nullptr);
  LoggedPort<CrbDevice> port(dev);
  OvmfCrbDriver drv(port, [&] { be.run_pending(); }, kCrbBaseGpa);
  std::string err;
  REQUIRE(drv.request_use(err));
  std::vector<uint8_t> rsp;
  REQUIRE(drv.command(make_get_random(32), rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(rsp.size() == 44);
  CHECK(be.last_command() == make_get_random(32));
  CHECK(dev.state() == CrbState::Idle);  // goIdle
  REQUIRE(drv.command(make_pcr_extend_sha256(16, 7), rsp, err));
  CHECK(response_code(rsp) == kTpmRcSuccess);
  // The driver's writes to CMD_*/RSP_* did not move the buffer.
  CHECK(dev.mmio_read(kCmdLaddr.offset, 4) == ((kCrbBaseGpa + kDataBuffer) & 0xFFFFFFFFu));
  CHECK(dev.mmio_read(kRspAddr.offset, 8) == kCrbBaseGpa + kDataBuffer);
  CHECK(dev.stats().rejected == 0);
}

TEST_CASE("OVMF CRB with an engine that finishes later", "[crb][ovmf]") {
  auto& be = LibtpmsBackend::instance();
  be.set_mode(LibtpmsBackend::Mode::Deferred);
  CrbDevice dev(be, nullptr);
  LoggedPort<CrbDevice> port(dev);
  OvmfCrbDriver drv(port, [&] { be.run_pending(); }, kCrbBaseGpa);
  std::string err;
  REQUIRE(drv.request_use(err));
  std::vector<uint8_t> rsp;
  const bool ok = drv.command(make_get_random(16), rsp, err);
  be.set_mode(LibtpmsBackend::Mode::Immediate);
  REQUIRE(ok);
  CHECK(response_code(rsp) == kTpmRcSuccess);
}
