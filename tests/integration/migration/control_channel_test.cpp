// The vTPM control-channel client against swtpm, over TCP and over a unix
// socket: capabilities, config, state export while running, refusal of
// SET_STATEBLOB while running, and a stop / set / init round trip that
// keeps a PCR value.
#include <catch.hpp>

#include "swtpm_process.hpp"
#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/protocol/source.hpp"
#include "vtpm/migration/tpm/transport.hpp"
#include "vtpm/migration/tpm2/constants.hpp"
#include "vtpm/migration/tpm/control_channel.hpp"
#include "vtpm/protocol/bytes.hpp"

using namespace mamori::vtpm::migration;
namespace protocol = mamori::vtpm::protocol;
using Bytes = std::vector<uint8_t>;

namespace {

constexpr uint64_t kCapGetStateBlob = 1u << 9;   // PTM_CAP_GET_STATEBLOB
constexpr uint64_t kCapSetStateBlob = 1u << 10;  // PTM_CAP_SET_STATEBLOB
constexpr uint64_t kCapStop = 1u << 11;          // PTM_CAP_STOP
constexpr uint32_t kCcPcrExtend = 0x182;         // Part 2 §6.5.2
constexpr uint32_t kCcPcrRead = 0x17E;
constexpr uint32_t kPcr = 16;

Bytes finish(Bytes b) {  // commandSize at offset 2 (Part 1 §18.2)
  uint32_t n = static_cast<uint32_t>(b.size());
  for (int i = 0; i < 4; ++i) b[2 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  return b;
}

// TPM2_PCR_Extend(16, SHA-256 digest of all `v`) with a password session (Part 3 §22.2).
void extend(tpm::Transport& t, uint8_t v) {
  Bytes c(2 + 4 + 4 + 4 + 4 + 9 + 4 + 2 + 32);
  protocol::ByteWriter w(c.data(), c.size());
  w.u16(tpm2::kStSessions);
  w.u32(0);
  w.u32(kCcPcrExtend);
  w.u32(kPcr);
  w.u32(9);
  w.u32(tpm2::kRsPw);
  w.u16(0);
  w.u8(0);
  w.u16(0);
  w.u32(1);  // TPML_DIGEST_VALUES.count
  w.u16(tpm2::kAlgSha256);
  for (int i = 0; i < 32; ++i) w.u8(v);
  REQUIRE(w.ok());
  Bytes cmd = finish(c);
  Bytes rsp = t.transact({cmd.data(), cmd.size()});
  protocol::ByteReader r(rsp.data(), rsp.size());
  r.u16();
  r.u32();
  REQUIRE(r.u32() == 0);
}

// TPM2_PCR_Read of SHA-256 PCR 16 (Part 3 §22.4): the digest is the last 32 bytes.
Bytes read_pcr(tpm::Transport& t) {
  Bytes c(2 + 4 + 4 + 4 + 2 + 1 + 3);
  protocol::ByteWriter w(c.data(), c.size());
  w.u16(tpm2::kStNoSessions);
  w.u32(0);
  w.u32(kCcPcrRead);
  w.u32(1);
  w.u16(tpm2::kAlgSha256);
  w.u8(3);
  w.u8(0);
  w.u8(0);
  w.u8(1);  // PCR 16
  REQUIRE(w.ok());
  Bytes cmd = finish(c);
  Bytes rsp = t.transact({cmd.data(), cmd.size()});
  REQUIRE(rsp.size() >= 10 + 32);
  protocol::ByteReader r(rsp.data(), rsp.size());
  r.u16();
  r.u32();
  REQUIRE(r.u32() == 0);
  return Bytes(rsp.end() - 32, rsp.end());
}

void round_trip(bool unix_ctrl) {
  test::SwtpmProcess sw(unix_ctrl ? "ctrl-unix" : "ctrl-tcp", unix_ctrl);
  tpm::ControlChannel ctrl(sw.ctrl_endpoint());
  uint64_t caps = ctrl.get_capability();
  CHECK((caps & kCapGetStateBlob));
  CHECK((caps & kCapSetStateBlob));
  CHECK((caps & kCapStop));
  auto cfg = ctrl.get_config();
  REQUIRE(cfg.has_value());
  CHECK((*cfg & tpm::swtpm::kConfigFlagMigrationKey) == 0);

  Bytes before;
  {
    auto t = tpm::open_transport(sw.data_spec());
    extend(*t, 0x42);
    before = read_pcr(*t);
    CHECK(before != Bytes(32, 0));
  }
  tpm::StateBlob perm = ctrl.get_state_blob(tpm::BlobType::permanent);
  tpm::StateBlob vol = ctrl.get_state_blob(tpm::BlobType::volatile_state);
  CHECK_FALSE(perm.data.empty());
  CHECK_FALSE(vol.data.empty());
  CHECK_FALSE(perm.encrypted);
  // swtpm accepts SET_STATEBLOB only while stopped
  CHECK_THROWS_AS(ctrl.set_state_blob(tpm::BlobType::volatile_state, vol.data), MigrationError);

  // Change the PCR, then put the exported state back: the old value returns.
  {
    auto t = tpm::open_transport(sw.data_spec());
    extend(*t, 0x43);
    CHECK(read_pcr(*t) != before);
  }
  restore_instance(ctrl, perm.data, vol.data, {});
  {
    auto t = tpm::open_transport(sw.data_spec());
    CHECK(read_pcr(*t) == before);
  }
  ctrl.shutdown();
}

}  // namespace

TEST_CASE("control channel over TCP: export, stop/set/init restores the state") { round_trip(false); }

TEST_CASE("control channel over a unix socket") { round_trip(true); }

TEST_CASE("control channel errors are reported, not hung on") {
  CHECK_THROWS_AS(tpm::ControlChannel("127.0.0.1:1").get_capability(), MigrationError);
  CHECK_THROWS_AS(tpm::ControlChannel("unix:/nonexistent/ctrl.sock").get_capability(), MigrationError);
  CHECK_THROWS_AS(tpm::ControlChannel("no-port").get_capability(), MigrationError);
}
