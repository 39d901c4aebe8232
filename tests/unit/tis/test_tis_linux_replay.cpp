// Linux's tpm_tis access sequence against the TIS model on real libtpms.
// One libtpms TPM per process: this executable owns it.
#include <openssl/sha.h>

#include <catch.hpp>

#include "tests/unit/common/libtpms_backend.hpp"
#include "tests/unit/common/linux_tis_driver.hpp"
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
  LinuxTisDriver driver{port, [this] { backend.run_pending(); }};
  explicit Rig(LibtpmsBackend::Mode m = LibtpmsBackend::Mode::Immediate) { backend.set_mode(m); }
  ~Rig() { backend.set_mode(LibtpmsBackend::Mode::Immediate); }
};

struct Expected {
  bool write;
  uint64_t offset;
  uint8_t size;
  int64_t value;  // written value; -1 = any (reads)
};

// What tpm_tis_core does for one command (locality free, engine finishing
// before the first poll), written from the driver source, step by step.
std::vector<Expected> linux_sequence(const std::vector<uint8_t>& cmd, size_t rsp_len) {
  constexpr uint64_t A = 0x00, S = 0x18, F = 0x24;
  std::vector<Expected> e;
  auto r = [&](uint64_t o, uint8_t s) { e.push_back({false, o, s, -1}); };
  auto w = [&](uint64_t o, uint8_t s, int64_t v) { e.push_back({true, o, s, v}); };
  r(A, 1), w(A, 1, 0x02), r(A, 1);  // request_locality
  r(S, 1), w(S, 1, 0x40), r(S, 1);  // status, tpm_tis_ready, wait commandReady
  r(S, 4);                          // get_burstcount
  for (size_t i = 0; i + 1 < cmd.size(); ++i) w(F, 1, cmd[i]);
  r(S, 1), r(S, 1);                 // wait stsValid, Expect still 1
  w(F, 1, cmd.back());
  r(S, 1), r(S, 1);                 // wait stsValid, Expect now 0
  w(S, 1, 0x20);                    // tpmGo
  r(S, 1);                          // tpm_try_transmit poll
  r(S, 1), r(S, 4);                 // recv_data(header): wait, burst
  for (int i = 0; i < 10; ++i) r(F, 1);
  r(S, 1), r(S, 4);                 // recv_data(body)
  for (size_t i = 10; i < rsp_len; ++i) r(F, 1);
  r(S, 1), r(S, 1);                 // wait stsValid, dataAvail must be 0
  w(S, 1, 0x40);                    // tpm_tis_ready
  w(A, 1, 0x20);                    // relinquish
  return e;
}

void check_log(const std::vector<MmioRecord>& log, const std::vector<Expected>& exp) {
  REQUIRE(log.size() == exp.size());
  for (size_t i = 0; i < log.size(); ++i) {
    CAPTURE(i);
    CHECK(log[i].write == exp[i].write);
    CHECK(log[i].offset == exp[i].offset);
    CHECK(log[i].size == exp[i].size);
    if (exp[i].value >= 0) CHECK(log[i].value == static_cast<uint64_t>(exp[i].value));
    if (!log[i].write && log[i].offset == 0x18 && log[i].size == 1) {
      CHECK((log[i].value & sts::kReadZero) == 0);  // never trips Linux's 0x23 check
    }
  }
}

}  // namespace

TEST_CASE("Linux probe: interrupt mask, TPM2 probe, DID_VID, RID, INTF_CAPABILITY", "[tis][linux]") {
  Rig rig;
  std::string err;
  REQUIRE(rig.driver.probe(make_get_capability_total_commands(), err));
  INFO(err);
  CHECK(rig.driver.did_vid() == 0x00011014u);
  CHECK(rig.driver.rid() == 0x01);
  CHECK(((rig.driver.intf_caps() >> 28) & 7) == 3);
  // The probe left interrupts masked globally and the locality free.
  CHECK((rig.dev.mmio_read(kIntEnable.offset, 4) & intr::kGlobalEnable) == 0);
  CHECK(rig.dev.active_locality() == kNoLocality);
  CHECK(rig.dev.state() == TisState::Idle);
  // First accesses: DID_VID, ACCESS (wait_startup), INT_ENABLE read, the
  // locality request (ACCESS read, requestUse write, ACCESS read), the
  // INT_ENABLE write, relinquish.
  REQUIRE(rig.port.log.size() > 8);
  const uint64_t first[] = {kDidVid.offset, kAccess.offset, kIntEnable.offset, kAccess.offset,
                            kAccess.offset, kAccess.offset, kIntEnable.offset, kAccess.offset};
  const bool writes[] = {false, false, false, false, true, false, true, true};
  for (size_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(rig.port.log[i].offset == first[i]);
    CHECK(rig.port.log[i].write == writes[i]);
  }
  // The INT_ENABLE write happened while locality 0 was active: it took.
  CHECK(rig.dev.mmio_read(kIntEnable.offset, 4) ==
        (intr::kCommandReady | intr::kLocalityChange | intr::kDataAvail | intr::kStsValid));
  // RID and INTF_CAPABILITY close the probe.
  const auto& log = rig.port.log;
  CHECK(log[log.size() - 2].offset == kRid.offset);
  CHECK(log[log.size() - 1].offset == kIntfCapability.offset);
}

TEST_CASE("Linux TPM2_GetRandom(32): exact access order and a real answer", "[tis][linux]") {
  Rig rig;
  const auto cmd = make_get_random(32);
  std::vector<uint8_t> rsp;
  std::string err;
  REQUIRE(rig.driver.transmit(cmd, rsp, err));
  INFO(err);
  REQUIRE(rsp.size() == 10 + 2 + 32);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(load_be16(rsp.data() + 10) == 32);
  CHECK(rig.backend.last_command() == cmd);
  check_log(rig.port.log, linux_sequence(cmd, rsp.size()));
  CHECK(rig.dev.state() == TisState::Idle);  // relinquish after tpm_tis_ready
  CHECK(rig.dev.active_locality() == kNoLocality);
  CHECK(rig.dev.stats().rejected == 0);
}

TEST_CASE("Linux TPM2_PCR_Extend changes PCR 16 as SHA-256 says", "[tis][linux]") {
  Rig rig;
  std::string err;
  std::vector<uint8_t> rsp;
  REQUIRE(rig.driver.transmit(make_pcr_read_sha256(16), rsp, err));
  REQUIRE(response_code(rsp) == kTpmRcSuccess);
  // TPM2_PCR_Read response: header, updateCounter(4), selection(4+2+1+3), count(4), size(2), digest
  constexpr size_t kDigestAt = 10 + 4 + 10 + 4 + 2;
  REQUIRE(rsp.size() == kDigestAt + 32);
  std::vector<uint8_t> before(rsp.begin() + kDigestAt, rsp.end());

  const auto ext = make_pcr_extend_sha256(16, 0xA5);
  rig.port.log.clear();
  REQUIRE(rig.driver.transmit(ext, rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  check_log(rig.port.log, linux_sequence(ext, rsp.size()));

  REQUIRE(rig.driver.transmit(make_pcr_read_sha256(16), rsp, err));
  std::vector<uint8_t> after(rsp.begin() + kDigestAt, rsp.end());
  uint8_t buf[64];
  std::copy(before.begin(), before.end(), buf);
  std::fill(buf + 32, buf + 64, 0xA5);
  uint8_t expect[32];
  SHA256(buf, sizeof buf, expect);
  CHECK(after == std::vector<uint8_t>(expect, expect + 32));
}

TEST_CASE("Linux driver polls while the engine runs later", "[tis][linux]") {
  Rig rig(LibtpmsBackend::Mode::Deferred);
  std::vector<uint8_t> rsp;
  std::string err;
  const auto cmd = make_get_random(16);
  REQUIRE(rig.driver.transmit(cmd, rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  // One poll saw Execution (no dataAvail), the engine ran, the next saw data.
  const auto plain = linux_sequence(cmd, rsp.size());
  CHECK(rig.port.log.size() == plain.size() + 1);
  CHECK(rig.backend.pending() == 0);
}

TEST_CASE("Linux driver commands back to back keep working", "[tis][linux]") {
  Rig rig;
  std::string err;
  std::vector<uint8_t> rsp;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(rig.driver.transmit(make_get_random(static_cast<uint16_t>(1 + i)), rsp, err));
    CHECK(response_code(rsp) == kTpmRcSuccess);
    CHECK(load_be16(rsp.data() + 10) == 1 + i);
  }
}
