// CRB registers, localities and the command protocol, against the PTP CRB
// interface tables.
#include <string.h>

#include <catch.hpp>

#include "tests/unit/crb/crb_fixture.hpp"
#include "vtpm/protocol/tpm_header.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::crb;

TEST_CASE("CRB locality 4 floats unless the VMM grants it", "[crb][registers]") {
  CrbFixture t;
  CHECK(t.r32(4, kLocState) == 0xFFFFFFFFu);
  t.request(4);
  CHECK(t.dev.active_locality() == kNoLocality);
}

TEST_CASE("CRB reset values", "[crb][registers]") {
  CrbFixture t;
  for (uint8_t l = 0; l < 4; ++l) {
    CAPTURE(l);
    CHECK(t.r32(l, kLocState) == (loc_state::kTpmRegValidSts | loc_state::kTpmEstablished));
    CHECK(t.r32(l, kLocSts) == 0);
    CHECK(t.r32(l, kLocCtrl) == 0);  // write-only
    // Control area of a locality that is not active floats.
    CHECK(t.r32(l, kCtrlSts) == 0xFFFFFFFFu);
    CHECK(t.r32(l, kCtrlStart) == 0xFFFFFFFFu);
  }
  CHECK(t.dev.state() == CrbState::Idle);
}

TEST_CASE("CRB INTF_ID: CRB type and version, VID/DID/RID, 64-bit and 32-bit reads", "[crb][registers]") {
  CrbFixture t;
  const uint64_t id = t.dev.mmio_read(CrbFixture::at(2, kIntfId), 8);
  CHECK((id & 0xF) == 1);          // InterfaceType: CRB
  CHECK(((id >> 4) & 0xF) == 1);   // InterfaceVersion: CRB
  CHECK((id & intf_id::kCapLocality) != 0);
  CHECK((id & intf_id::kCapCrbIdleBypass) == 0);
  CHECK(((id >> 11) & 3) == 3);    // 64-byte transfers
  CHECK((id & intf_id::kCapFifo) == 0);
  CHECK((id & intf_id::kCapCrb) != 0);
  CHECK(((id >> 17) & 3) == 1);    // InterfaceSelector: CRB
  CHECK((id & intf_id::kIntfSelLock) != 0);
  CHECK(((id >> 24) & 0xFF) == 0x01);
  CHECK(((id >> 32) & 0xFFFF) == 0x1014);
  CHECK((id >> 48) == 0x0001);
  CHECK(t.dev.mmio_read(CrbFixture::at(2, kIntfId), 4) == (id & 0xFFFFFFFFu));
  CHECK(t.dev.mmio_read(CrbFixture::at(2, kIntfId, 4), 4) == (id >> 32));
  t.request(2);
  t.dev.mmio_write(CrbFixture::at(2, kIntfId), 8, 0);
  CHECK(t.dev.mmio_read(CrbFixture::at(2, kIntfId), 8) == id);
}

TEST_CASE("CRB buffer address and size registers", "[crb][registers]") {
  FakeBackend be;
  CrbConfig cfg;
  cfg.base_gpa = 0x1'2345'0000ull;
  CrbDevice dev(be, nullptr, cfg);
  dev.mmio_write(kLocCtrl.offset, 4, loc_ctrl::kRequestAccess);
  CHECK(dev.mmio_read(kCmdSize.offset, 4) == kDataBufferSize);
  CHECK(dev.mmio_read(kRspSize.offset, 4) == kDataBufferSize);
  CHECK(kDataBufferSize == 0xF80);
  CHECK(dev.mmio_read(kCmdLaddr.offset, 4) == 0x2345'0080u);
  CHECK(dev.mmio_read(kCmdHaddr.offset, 4) == 0x1u);
  CHECK(dev.mmio_read(kRspAddr.offset, 8) == 0x1'2345'0080ull);
  dev.mmio_write(kCmdLaddr.offset, 4, 0);  // read-only
  CHECK(dev.mmio_read(kCmdLaddr.offset, 4) == 0x2345'0080u);
}

TEST_CASE("CRB bad sizes, crossings, reserved space", "[crb][registers]") {
  CrbFixture t;
  t.request();
  CHECK(t.dev.mmio_read(kCtrlReq.offset + 2, 4) == 0xFFFFFFFFu);  // crosses into CTRL_STS
  CHECK(t.dev.mmio_read(kCtrlReq.offset, 8) == ~uint64_t{0});     // two registers
  CHECK(t.dev.mmio_read(kCtrlReq.offset, 3) == 0xFFFFFFu);
  CHECK(t.dev.mmio_read(kLocalityStride - 2, 4) == 0xFFFFFFFFu);  // buffer end crosses page
  CHECK(t.dev.mmio_read(kWindowSize, 4) == 0xFFFFFFFFu);
  CHECK(t.dev.stats().rejected == 5);
  CHECK(t.dev.mmio_read(0x04, 4) == 0);  // reserved reads 0
  CHECK(t.dev.mmio_read(0x10, 4) == 0);
  CHECK(t.dev.mmio_read(0x70, 8) == 0);
  CHECK(t.dev.stats().rejected == 5);
  t.dev.mmio_write(kLocalityStride - 1, 2, 0xFFFF);
  t.dev.mmio_write(kCtrlStart.offset + 2, 4, 1);
  CHECK(t.dev.stats().rejected == 7);
  CHECK(t.dev.state() == CrbState::Idle);
}

TEST_CASE("CRB localities: request, relinquish, pending grant, seize", "[crb][locality]") {
  CrbFixture t;
  t.request(1);
  CHECK(t.r32(0, kLocState) ==
        (loc_state::kTpmRegValidSts | loc_state::kTpmEstablished | loc_state::kLocAssigned | (1u << 2)));
  CHECK(t.r32(1, kLocSts) == loc_sts::kGranted);
  CHECK(t.r32(0, kLocSts) == 0);
  t.request(0);  // waits
  t.relinquish(1);
  CHECK(t.dev.active_locality() == 0);
  t.w32(3, kLocCtrl, loc_ctrl::kSeize);
  CHECK(t.dev.active_locality() == 3);
  CHECK(t.r32(0, kLocSts) == loc_sts::kBeenSeized);
  t.w32(2, kLocCtrl, loc_ctrl::kSeize);  // lower than 3: ignored
  CHECK(t.dev.active_locality() == 3);
  t.w32(3, kLocCtrl, loc_ctrl::kRelinquish | loc_ctrl::kRequestAccess);  // two actions: dropped
  CHECK(t.dev.active_locality() == 3);
  t.relinquish(3);
  CHECK((t.r32(0, kLocState) & loc_state::kLocAssigned) == 0);
  t.request(0);  // requesting again clears beenSeized
  CHECK(t.r32(0, kLocSts) == loc_sts::kGranted);
}

TEST_CASE("CRB command: cmdReady, START, completion, response in the buffer", "[crb][state]") {
  CrbFixture t;
  t.request();
  CHECK(t.r32(0, kCtrlSts) == ctrl_sts::kTpmIdle);
  t.write_buffer({1, 2, 3});  // Idle: the buffer is off
  CHECK(t.read_buffer(3) == std::vector<uint8_t>{0xFF, 0xFF, 0xFF});
  t.start();  // Idle: START ignored (no idle bypass)
  CHECK(t.r32(0, kCtrlStart) == 0);
  t.cmd_ready();
  CHECK(t.r32(0, kCtrlReq) == 0);  // request done at once
  CHECK(t.r32(0, kCtrlSts) == 0);
  CHECK(t.dev.state() == CrbState::Ready);
  const auto cmd = crb_get_random_cmd();
  t.write_buffer(cmd);
  CHECK(t.read_buffer(cmd.size()) == cmd);
  t.start();
  CHECK(t.r32(0, kCtrlStart) == kStartInvoke);
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == cmd);  // size taken from the header
  t.write_buffer({0xEE});  // no writes while the engine reads the command
  CHECK(t.read_buffer(1)[0] == 0x80);
  const auto rsp = make_response(0, {1, 2, 3, 4, 5, 6, 7, 8});
  t.backend.finish(0, rsp);
  CHECK(t.r32(0, kCtrlStart) == 0);
  CHECK(t.dev.state() == CrbState::Completion);
  CHECK(t.read_buffer(rsp.size()) == rsp);
  CHECK(t.dev.mmio_read(kDataBuffer, 8) == 0x0000'1200'0000'0180ull);  // 80 01 00 00 00 12 00 00
  // Next command without going idle.
  t.write_buffer(cmd);
  t.start();
  CHECK(t.backend.submissions.size() == 2);
  t.backend.finish(1, make_response(0));
  t.go_idle();
  CHECK(t.r32(0, kCtrlSts) == ctrl_sts::kTpmIdle);
  CHECK(t.r32(0, kCtrlReq) == 0);
}

TEST_CASE("CRB impossible command sizes get TPM_RC_COMMAND_SIZE", "[crb][state]") {
  for (uint32_t size : {0u, 9u, kDataBufferSize + 1, 0xFFFFFFFFu}) {
    CAPTURE(size);
    CrbFixture t;
    t.request();
    t.cmd_ready();
    t.write_buffer({0x80, 0x01, uint8_t(size >> 24), uint8_t(size >> 16), uint8_t(size >> 8), uint8_t(size)});
    t.start();
    CHECK(t.backend.submissions.empty());
    CHECK(t.r32(0, kCtrlStart) == 0);
    const auto rsp = t.read_buffer(kTpmHeaderSize);
    CHECK(load_be32(rsp.data() + 2) == kTpmHeaderSize);
    CHECK(load_be32(rsp.data() + 6) == kTpmRcCommandSize);
  }
}

TEST_CASE("CRB cancel and goIdle during execution", "[crb][state]") {
  CrbFixture t;
  t.submit(crb_get_random_cmd());
  t.w32(0, kCtrlCancel, kCancelInvoke);
  CHECK(t.r32(0, kCtrlCancel) == kCancelInvoke);
  REQUIRE(t.backend.cancels.size() == 1);
  t.go_idle();
  CHECK(t.r32(0, kCtrlReq) == ctrl_req::kGoIdle);  // pending until done
  t.cmd_ready();  // ignored while executing
  t.backend.finish(0, make_response(kTpmRcCanceled));
  CHECK(t.dev.state() == CrbState::Idle);
  CHECK(t.r32(0, kCtrlReq) == 0);
  t.w32(0, kCtrlCancel, 0);
  CHECK(t.r32(0, kCtrlCancel) == 0);
}

TEST_CASE("CRB locality change aborts; the next START waits for the engine", "[crb][state]") {
  CrbConfig all;
  all.locality_mask = 0x1F;  // the VMM grants locality 4
  CrbFixture t(all);
  t.submit(crb_get_random_cmd());
  t.w32(4, kLocCtrl, loc_ctrl::kSeize);
  CHECK(t.dev.state() == CrbState::Idle);
  REQUIRE(t.backend.cancels.size() == 1);
  t.cmd_ready(4);
  auto cmd2 = crb_get_random_cmd();
  cmd2.back() = 4;
  t.write_buffer(cmd2, 4);
  t.start(4);
  CHECK(t.backend.submissions.size() == 1);  // engine still busy with the old one
  t.backend.finish(0, make_response(0, {9, 9}));
  REQUIRE(t.backend.submissions.size() == 2);
  CHECK(t.backend.submissions[1].command == cmd2);
  CHECK(t.backend.submissions[1].locality == 4);
  CHECK(t.r32(4, kCtrlStart) == kStartInvoke);
  const auto rsp = make_response(0, {4});
  t.backend.finish(1, rsp);
  CHECK(t.read_buffer(rsp.size(), 4) == rsp);
  // Locality 0 lost the TPM: its control area floats, its writes are dropped.
  CHECK(t.r32(0, kCtrlStart) == 0xFFFFFFFFu);
  t.start(0);
  CHECK(t.backend.submissions.size() == 2);
}

TEST_CASE("CRB malformed engine completions become TPM_RC_FAILURE", "[crb][state]") {
  CrbFixture t;
  t.submit(crb_get_random_cmd());
  t.backend.finish(0, make_response(0, {1}), kDataBufferSize + 1);
  CHECK(load_be32(t.read_buffer(10).data() + 6) == kTpmRcFailure);
}

TEST_CASE("CRB interrupts: start, cmdReady, localityChange", "[crb][irq]") {
  CrbFixture t;
  t.request();
  t.w32(0, kIntEnable, 0xFFFFFFFFu);
  CHECK(t.r32(0, kIntEnable) == intr::kEnableWritable);
  t.cmd_ready();
  CHECK(t.r32(0, kIntSts) == intr::kCmdReady);
  CHECK(t.irq.level);
  t.w32(0, kIntSts, intr::kCmdReady);
  CHECK_FALSE(t.irq.level);
  t.write_buffer(crb_get_random_cmd());
  t.start();
  t.backend.finish(0, make_response(0));
  CHECK(t.r32(0, kIntSts) == intr::kStart);
  CHECK(t.irq.level);
  t.w32(0, kIntSts, 0xFFFFFFFFu);
  t.w32(0, kIntEnable, intr::kLocalityChange | intr::kGlobalEnable);
  t.request(1);
  t.relinquish(0);
  CHECK(t.dev.active_locality() == 1);
  CHECK(t.r32(1, kIntSts) == intr::kLocalityChange);
}

TEST_CASE("CRB resetEstablishment only from localities 3 and 4", "[crb][locality]") {
  FakeBackend be;
  CrbConfig cfg;
  cfg.established = true;
  CrbDevice dev(be, nullptr, cfg);
  CHECK((dev.mmio_read(kLocState.offset, 4) & loc_state::kTpmEstablished) == 0);
  dev.mmio_write(kLocCtrl.offset, 4, loc_ctrl::kResetEstablishment);
  CHECK((dev.mmio_read(kLocState.offset, 4) & loc_state::kTpmEstablished) == 0);
  dev.mmio_write(3 * kLocalityStride + kLocCtrl.offset, 4, loc_ctrl::kResetEstablishment);
  CHECK((dev.mmio_read(kLocState.offset, 4) & loc_state::kTpmEstablished) != 0);
}

TEST_CASE("CRB reset", "[crb][state]") {
  CrbFixture t;
  t.submit(crb_get_random_cmd());
  t.dev.reset();
  CHECK(t.dev.state() == CrbState::Idle);
  CHECK(t.dev.active_locality() == kNoLocality);
  t.backend.finish(0, make_response(0));
  CHECK(t.dev.state() == CrbState::Idle);
}

TEST_CASE("CRB separate buffer page: registers, direct buffer, private copy", "[crb][buffer_page]") {
  CrbConfig cfg;
  cfg.buffer_page_gpa = 0x7F000000;
  CrbFixture t(cfg);
  REQUIRE(t.dev.separate_buffer());
  REQUIRE((reinterpret_cast<uintptr_t>(t.dev.buffer_page()) & (kBufferPageSize - 1)) == 0);
  t.request();
  CHECK(t.r32(0, kCmdSize) == kBufferPageSize);
  CHECK(t.r32(0, kRspSize) == kBufferPageSize);
  CHECK(t.r32(0, kCmdLaddr) == 0x7F000000u);
  CHECK(t.r32(0, kCmdHaddr) == 0);
  CHECK(t.dev.mmio_read(kRspAddr.offset, 8) == 0x7F000000ull);
  // The in-window buffer offsets are reserved now.
  t.cmd_ready();
  t.write_buffer({0x80, 0x01});
  CHECK(t.read_buffer(2) == std::vector<uint8_t>{0, 0});
  // A command of a whole page, written by the guest straight into the page.
  std::vector<uint8_t> cmd(kBufferPageSize, 0x11);
  store_be16(cmd.data(), kTpmStNoSessions);
  store_be32(cmd.data() + 2, kBufferPageSize);
  memcpy(t.dev.buffer_page(), cmd.data(), cmd.size());
  t.start();
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == cmd);
  // The guest scribbles on the page while the command runs: what the engine
  // was given does not change; the response lands in the page.
  memset(t.dev.buffer_page(), 0xEE, kBufferPageSize);
  const auto rsp = make_response(0, {5, 6, 7});
  t.backend.finish(0, rsp);
  CHECK(std::vector<uint8_t>(t.dev.buffer_page(), t.dev.buffer_page() + rsp.size()) == rsp);
  CHECK(t.r32(0, kCtrlStart) == 0);
}

TEST_CASE("CRB impossible size waits for an aborted command before answering", "[crb][state]") {
  CrbFixture t;
  t.submit(crb_get_random_cmd());
  t.relinquish();  // abort; the engine keeps the command
  t.request();
  t.cmd_ready();
  t.write_buffer({0x80, 0x01, 0, 0, 0, 0x03});
  t.start();
  CHECK(t.r32(0, kCtrlStart) == kStartInvoke);  // waiting for the engine
  t.backend.finish(0, make_response(0, {1}));
  CHECK(t.r32(0, kCtrlStart) == 0);
  CHECK(load_be32(t.read_buffer(10).data() + 6) == kTpmRcCommandSize);
  CHECK(t.backend.submissions.size() == 1);
}

TEST_CASE("CRB remaining bits: CTRL_EXT, tpmSts, goIdle from Ready, cmdReady in Completion", "[crb][registers]") {
  CrbFixture t;
  t.request();
  CHECK(t.dev.mmio_read(kCtrlExt.offset, 8) == 0);
  t.dev.mmio_write(kCtrlExt.offset, 8, ~uint64_t{0});
  CHECK(t.dev.mmio_read(kCtrlExt.offset, 8) == 0);
  CHECK((t.r32(0, kCtrlSts) & ctrl_sts::kTpmSts) == 0);
  t.cmd_ready();
  t.go_idle();  // Ready -> Idle
  CHECK(t.dev.state() == CrbState::Idle);
  t.cmd_ready();
  t.write_buffer(crb_get_random_cmd());
  t.start();
  t.backend.finish(0, make_response(0));
  t.cmd_ready();  // Completion: nothing to do, the response stays
  CHECK(t.dev.state() == CrbState::Completion);
  CHECK(load_be32(t.read_buffer(10).data() + 6) == 0);
  t.w32(0, kCtrlReq, ctrl_req::kCmdReady | ctrl_req::kGoIdle);  // both: dropped
  CHECK(t.dev.state() == CrbState::Completion);
  t.w32(0, kCtrlStart, 0);  // writing 0 to START does nothing
  CHECK(t.backend.submissions.size() == 1);
  // LOC_CTRL is write-only at every locality; LOC_STATE reads the same everywhere.
  for (uint8_t l = 0; l < 4; ++l) {
    CHECK(t.r32(l, kLocCtrl) == 0);
    CHECK(t.r32(l, kLocState) == t.r32(0, kLocState));
  }
}

TEST_CASE("CRB establishmentClear interrupt", "[crb][irq]") {
  CrbConfig cfg;
  cfg.established = true;
  CrbFixture t(cfg);
  t.request(3);
  t.w32(3, kIntEnable, intr::kEstablishmentClear | intr::kGlobalEnable);
  t.w32(3, kLocCtrl, loc_ctrl::kResetEstablishment);
  CHECK(t.r32(3, kIntSts) == intr::kEstablishmentClear);
  CHECK(t.irq.level);
  CHECK((t.r32(3, kLocState) & loc_state::kTpmEstablished) != 0);
  t.w32(3, kIntSts, intr::kEstablishmentClear);
  CHECK_FALSE(t.irq.level);
  t.w32(3, kLocCtrl, loc_ctrl::kResetEstablishment);  // already clear: no new event
  CHECK(t.r32(3, kIntSts) == 0);
}

TEST_CASE("CRB accesses crossing from the control area into the buffer are rejected", "[crb][registers]") {
  CrbFixture t;
  t.request();
  t.cmd_ready();
  const uint64_t before = t.dev.stats().rejected;
  CHECK(t.dev.mmio_read(kDataBuffer - 4, 8) == ~uint64_t{0});
  t.dev.mmio_write(kDataBuffer - 2, 4, 0x12345678);
  CHECK(t.dev.stats().rejected == before + 2);
  CHECK(t.read_buffer(2) == std::vector<uint8_t>{0, 0});
  CHECK(t.dev.mmio_read(0x6C, 4) == ((kCrbBaseGpa + kDataBuffer) >> 32));  // upper half of RSP_ADDR
  CHECK(t.dev.mmio_read(0x1C, 8) == 0);  // reserved
  CHECK(t.dev.mmio_read(0x2C, 8) == ~uint64_t{0});  // reserved into INTF_ID: crossing
}
