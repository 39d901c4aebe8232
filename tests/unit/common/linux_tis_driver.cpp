#include "tests/unit/common/linux_tis_driver.hpp"

#include <algorithm>

namespace mamori::test {
namespace {
// drivers/char/tpm/tpm_tis_core.h, locality 0.
constexpr uint64_t kAccess = 0x00, kIntEnable = 0x08, kIntfCaps = 0x14, kSts = 0x18,
                   kDataFifo = 0x24, kDidVid = 0xF00, kRid = 0xF04;
constexpr uint8_t kAccessValid = 0x80, kAccessActive = 0x20, kAccessRequestUse = 0x02;
constexpr uint8_t kStsValid = 0x80, kStsCommandReady = 0x40, kStsGo = 0x20, kStsDataAvail = 0x10,
                  kStsDataExpect = 0x08, kStsReadZero = 0x23;
constexpr uint32_t kIntfCmdReady = 0x80, kIntfLocalityChange = 0x04, kIntfDataAvail = 0x01,
                   kIntfStsValid = 0x02, kGlobalIntEnable = 0x80000000u;
constexpr size_t kHeaderSize = 10;
}  // namespace

bool LinuxTisDriver::request_locality(std::string& err) {
  // check_locality(): (access & (ACTIVE|VALID|REQUEST_USE)) == (ACTIVE|VALID)
  auto check = [&] {
    const uint8_t a = static_cast<uint8_t>(port_.read(kAccess, 1));
    return (a & (kAccessActive | kAccessValid | kAccessRequestUse)) == (kAccessActive | kAccessValid);
  };
  if (check()) return true;
  port_.write(kAccess, 1, kAccessRequestUse);
  for (int i = 0; i < kMaxPolls; ++i) {
    if (check()) return true;
    sleep_();
  }
  err = "locality 0 not granted";
  return false;
}

void LinuxTisDriver::relinquish_locality() { port_.write(kAccess, 1, kAccessActive); }

uint8_t LinuxTisDriver::status() {
  const uint8_t s = static_cast<uint8_t>(port_.read(kSts, 1));
  if (s & kStsReadZero) return 0;  // tpm_tis_status(): "invalid TPM_STS.x"
  return s;
}

bool LinuxTisDriver::wait_for_stat(uint8_t mask, std::string& err) {
  for (int i = 0; i < kMaxPolls; ++i) {
    if ((status() & mask) == mask) return true;
    sleep_();
  }
  err = "timeout waiting for status";
  return false;
}

uint32_t LinuxTisDriver::get_burstcount(std::string& err) {
  for (int i = 0; i < kMaxPolls; ++i) {
    const uint32_t v = static_cast<uint32_t>(port_.read(kSts, 4));
    const uint32_t burst = (v >> 8) & 0xFFFF;
    if (burst) return burst;
    sleep_();
  }
  err = "burstcount stayed 0";
  return 0;
}

bool LinuxTisDriver::send_data(const std::vector<uint8_t>& cmd, std::string& err) {
  const size_t len = cmd.size();
  if (!(status() & kStsCommandReady)) {
    port_.write(kSts, 1, kStsCommandReady);  // tpm_tis_ready()
    if (!wait_for_stat(kStsCommandReady, err)) return false;
  }
  size_t count = 0;
  while (count < len - 1) {
    uint32_t burst = get_burstcount(err);
    if (burst == 0) return false;
    burst = static_cast<uint32_t>(std::min<size_t>(burst, len - count - 1));
    for (uint32_t i = 0; i < burst; ++i) port_.write(kDataFifo, 1, cmd[count + i]);
    count += burst;
    if (!wait_for_stat(kStsValid, err)) return false;
    if (!(status() & kStsDataExpect)) {
      err = "Expect cleared before the last byte";
      return false;
    }
  }
  port_.write(kDataFifo, 1, cmd[count]);
  if (!wait_for_stat(kStsValid, err)) return false;
  if (status() & kStsDataExpect) {
    err = "Expect still set after the last byte";
    return false;
  }
  return true;
}

bool LinuxTisDriver::recv_data(std::vector<uint8_t>& buf, size_t count, std::string& err) {
  size_t size = 0;
  while (size < count) {
    if (!wait_for_stat(kStsDataAvail | kStsValid, err)) return false;
    const uint32_t burst = get_burstcount(err);
    if (burst == 0) return false;
    const size_t n = std::min<size_t>(burst, count - size);
    for (size_t i = 0; i < n; ++i) buf.push_back(static_cast<uint8_t>(port_.read(kDataFifo, 1)));
    size += n;
  }
  return true;
}

bool LinuxTisDriver::recv(std::vector<uint8_t>& rsp, std::string& err) {
  rsp.clear();
  bool ok = recv_data(rsp, kHeaderSize, err);
  if (ok) {
    const uint32_t expected = (uint32_t{rsp[2]} << 24) | (uint32_t{rsp[3]} << 16) | (uint32_t{rsp[4]} << 8) | rsp[5];
    if (expected < kHeaderSize || expected > 4096) {
      err = "bad response size";
      ok = false;
    } else {
      ok = recv_data(rsp, expected - kHeaderSize, err) && wait_for_stat(kStsValid, err);
      if (ok && (status() & kStsDataAvail)) {
        err = "dataAvail still set after the whole response";
        ok = false;
      }
    }
  }
  port_.write(kSts, 1, kStsCommandReady);  // out: tpm_tis_ready()
  return ok;
}

bool LinuxTisDriver::transmit(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err) {
  if (cmd.size() < kHeaderSize) {
    err = "command shorter than a header";
    return false;
  }
  if (!request_locality(err)) return false;  // tpm_chip_start
  bool ok = send_data(cmd, err);
  if (ok) {
    port_.write(kSts, 1, kStsGo);  // tpm_tis_send_main
    // tpm_try_transmit: poll status until req_complete_mask matches.
    ok = false;
    for (int i = 0; i < kMaxPolls && !ok; ++i) {
      const uint8_t s = status();
      if ((s & (kStsDataAvail | kStsValid)) == (kStsDataAvail | kStsValid)) {
        ok = true;
      } else if (s == kStsCommandReady) {  // tpm_tis_req_canceled
        err = "operation canceled";
        break;
      } else {
        sleep_();
      }
    }
    if (!ok && err.empty()) err = "command timed out";
    if (ok) ok = recv(rsp, err);
  }
  relinquish_locality();  // tpm_chip_stop
  return ok;
}

bool LinuxTisDriver::probe(const std::vector<uint8_t>& probe_cmd, std::string& err) {
  did_vid_ = static_cast<uint32_t>(port_.read(kDidVid, 4));  // manufacturer quirks first
  // wait_startup(chip, 0): ACCESS of locality 0 until tpmRegValidSts.
  bool valid = false;
  for (int i = 0; i < kMaxPolls && !valid; ++i) {
    valid = (port_.read(kAccess, 1) & kAccessValid) != 0;
    if (!valid) sleep_();
  }
  if (!valid) {
    err = "TPM_ACCESS never valid";
    return false;
  }
  // Take control of the TPM's interrupt hardware and shut it off (the
  // write is done holding locality 0, or the TPM ignores it).
  uint32_t intmask = static_cast<uint32_t>(port_.read(kIntEnable, 4));
  intmask |= kIntfCmdReady | kIntfLocalityChange | kIntfDataAvail | kIntfStsValid;
  intmask &= ~kGlobalIntEnable;
  if (!request_locality(err)) return false;
  port_.write(kIntEnable, 4, intmask);
  relinquish_locality();
  std::vector<uint8_t> rsp;
  if (!transmit(probe_cmd, rsp, err)) return false;  // tpm_chip_start; tpm2_probe; tpm_chip_stop
  rid_ = static_cast<uint8_t>(port_.read(kRid, 1));
  intf_caps_ = static_cast<uint32_t>(port_.read(kIntfCaps, 4));  // probe_itpm: no access for non-Intel
  return true;
}

}  // namespace mamori::test
