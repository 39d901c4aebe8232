// Linux's tpm_crb access sequence against the CRB model on real libtpms.
#include <catch.hpp>

#include "tests/unit/common/libtpms_backend.hpp"
#include "tests/unit/common/linux_crb_driver.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/crb/crb_device.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::crb;

namespace {

struct Rig {
  LibtpmsBackend& backend = LibtpmsBackend::instance();
  CrbDevice dev{backend, nullptr};
  LoggedPort<CrbDevice> port{dev};
  LinuxCrbDriver driver{port, [this] { backend.run_pending(); }};
  explicit Rig(LibtpmsBackend::Mode m = LibtpmsBackend::Mode::Immediate) { backend.set_mode(m); }
  ~Rig() { backend.set_mode(LibtpmsBackend::Mode::Immediate); }
};

struct Expected {
  bool write;
  uint64_t offset;
  uint8_t size;
  int64_t value;
};

// Elements of x86 memcpy_*io for an aligned buffer: dwords, then a word
// and a byte for the tail (arch/x86/lib/iomem.c rep_movs).
void string_elems(std::vector<Expected>& e, bool write, uint64_t at, size_t n) {
  for (size_t i = 0; i < n / 4; ++i) e.push_back({write, at + 4 * i, 4, -1});
  at += n / 4 * 4;
  if (n & 2) e.push_back({write, at, 2, -1}), at += 2;
  if (n & 1) e.push_back({write, at, 1, -1});
}

std::vector<Expected> linux_sequence(size_t cmd_len, size_t rsp_len) {
  std::vector<Expected> e;
  auto r = [&](uint64_t o) { e.push_back({false, o, 4, -1}); };
  auto w = [&](uint64_t o, int64_t v) { e.push_back({true, o, 4, v}); };
  w(0x08, 1), r(0x00);        // request locality, LOC_STATE
  w(0x40, 1), r(0x40);        // cmdReady, CTRL_REQ
  w(0x48, 0);                 // CTRL_CANCEL = 0
  string_elems(e, true, 0x80, cmd_len);
  w(0x4C, 1);                 // START
  r(0x4C);                    // crb_status
  r(0x44);                    // CTRL_STS
  string_elems(e, false, 0x80, 8);
  string_elems(e, false, 0x88, rsp_len - 8);
  w(0x40, 2), r(0x40);        // goIdle
  w(0x08, 2), r(0x00);        // relinquish
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
  }
}

}  // namespace

TEST_CASE("Linux crb_map_io probe finds the buffer at base + 0x80", "[crb][linux]") {
  Rig rig;
  std::string err;
  REQUIRE(rig.driver.probe(kCrbBaseGpa, err));
  INFO(err);
  CHECK(rig.driver.cmd_size() == kDataBufferSize);
  CHECK(rig.dev.state() == CrbState::Idle);
  CHECK(rig.dev.active_locality() == kNoLocality);
  CHECK(rig.dev.stats().rejected == 0);
}

TEST_CASE("Linux CRB TPM2_GetRandom(32): exact access order and a real answer", "[crb][linux]") {
  Rig rig;
  std::string err;
  REQUIRE(rig.driver.probe(kCrbBaseGpa, err));
  rig.port.log.clear();
  const auto cmd = make_get_random(32);
  std::vector<uint8_t> rsp;
  REQUIRE(rig.driver.transmit(cmd, rsp, err));
  INFO(err);
  REQUIRE(rsp.size() == 44);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(load_be16(rsp.data() + 10) == 32);
  CHECK(rig.backend.last_command() == cmd);
  check_log(rig.port.log, linux_sequence(cmd.size(), rsp.size()));
  CHECK(rig.dev.state() == CrbState::Idle);
  CHECK(rig.dev.active_locality() == kNoLocality);
}

TEST_CASE("Linux CRB TPM2_PCR_Extend and PCR_Read", "[crb][linux]") {
  Rig rig;
  std::string err;
  REQUIRE(rig.driver.probe(kCrbBaseGpa, err));
  std::vector<uint8_t> rsp;
  rig.port.log.clear();
  const auto ext = make_pcr_extend_sha256(16, 0x3C);
  REQUIRE(rig.driver.transmit(ext, rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  check_log(rig.port.log, linux_sequence(ext.size(), rsp.size()));
  REQUIRE(rig.driver.transmit(make_pcr_read_sha256(16), rsp, err));
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(rsp.size() == 10 + 4 + 10 + 4 + 2 + 32);
}

TEST_CASE("Linux CRB driver polls START while the engine runs later", "[crb][linux]") {
  Rig rig(LibtpmsBackend::Mode::Deferred);
  std::string err;
  REQUIRE(rig.driver.probe(kCrbBaseGpa, err));
  rig.port.log.clear();
  std::vector<uint8_t> rsp;
  const auto cmd = make_get_random(8);
  REQUIRE(rig.driver.transmit(cmd, rsp, err));
  INFO(err);
  CHECK(response_code(rsp) == kTpmRcSuccess);
  // One poll saw START=1 and read CTRL_CANCEL (crb_req_canceled) before sleeping.
  CHECK(rig.port.log.size() == linux_sequence(cmd.size(), rsp.size()).size() + 2);
}

TEST_CASE("Linux CRB with the data buffer in its own mapped page: 12 register accesses", "[crb][linux]") {
  auto& be = LibtpmsBackend::instance();
  CrbConfig cfg;
  cfg.buffer_page_gpa = 0x7F000000;
  CrbDevice dev(be, nullptr, cfg);
  LoggedPort<CrbDevice> port(dev);
  MemoryPort page(dev.buffer_page(), kBufferPageSize);
  LinuxCrbDriver driver(port, [&] { be.run_pending(); });
  driver.map_buffer_page(cfg.buffer_page_gpa, page);
  std::string err;
  REQUIRE(driver.probe(kCrbBaseGpa, err));
  INFO(err);
  CHECK(driver.cmd_size() == kBufferPageSize);
  port.log.clear();
  std::vector<uint8_t> rsp;
  REQUIRE(driver.transmit(make_get_random(32), rsp, err));
  CHECK(response_code(rsp) == kTpmRcSuccess);
  CHECK(rsp.size() == 44);
  // Only the register accesses of linux_sequence remain.
  std::vector<Expected> regs;
  for (const Expected& e : linux_sequence(12, 44))
    if (e.offset < kDataBuffer) regs.push_back(e);
  check_log(port.log, regs);
  CHECK(port.log.size() == 12);
}
