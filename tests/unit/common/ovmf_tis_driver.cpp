#include "tests/unit/common/ovmf_tis_driver.hpp"

namespace mamori::test {
namespace {
// TIS_PC_REGISTERS offsets and bits in Tpm2Tis.c.
constexpr uint64_t kAccess = 0x00, kStatus = 0x18, kBurstCount = 0x19, kDataFifo = 0x24;
constexpr uint8_t kValid = 0x80, kAccActive = 0x20, kAccRquUse = 0x02;
constexpr uint8_t kStsReady = 0x40, kStsGo = 0x20, kStsData = 0x10, kStsExpect = 0x08;
constexpr size_t kHeaderSize = 10;  // sizeof (TPM2_RESPONSE_HEADER)
constexpr uint16_t kTpmStRspCommand = 0x00C4;  // TPM 1.2 tag, refused by the driver
}  // namespace

bool OvmfTisDriver::wait_bits(uint64_t reg, uint8_t set, uint8_t clear) {
  for (int i = 0; i < kMaxPolls; ++i) {
    const uint8_t v = static_cast<uint8_t>(port_.read(reg, 1));
    if ((v & set) == set && (v & clear) == 0) return true;
    sleep_();
  }
  return false;
}

bool OvmfTisDriver::burst_count(uint16_t& out) {
  for (int i = 0; i < kMaxPolls; ++i) {
    // "burstCount is UINT16, but it is not 2bytes aligned, so it needs to
    // use MmioRead8 to read two times"
    const uint8_t b0 = static_cast<uint8_t>(port_.read(kBurstCount, 1));
    const uint8_t b1 = static_cast<uint8_t>(port_.read(kBurstCount + 1, 1));
    out = static_cast<uint16_t>((b1 << 8) + b0);
    if (out != 0) return true;
    sleep_();
  }
  return false;
}

bool OvmfTisDriver::request_use(std::string& err) {
  if (static_cast<uint8_t>(port_.read(kAccess, 1)) == 0xFF) {  // TisPcPresenceCheck
    err = "no TPM";
    return false;
  }
  port_.write(kAccess, 1, kAccRquUse);
  if (!wait_bits(kAccess, kAccActive | kValid, 0)) {
    err = "locality not granted";
    return false;
  }
  return true;
}

bool OvmfTisDriver::command(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err) {
  port_.write(kStatus, 1, kStsReady);  // TisPcPrepareCommand
  if (!wait_bits(kStatus, kStsReady, 0)) {
    err = "Tpm2 is not ready for command";
    return false;
  }
  bool ok = true;
  uint16_t burst = 0;
  size_t index = 0;
  while (ok && index < cmd.size()) {
    if (!burst_count(burst)) {
      err = "burstCount stayed 0 (send)";
      ok = false;
      break;
    }
    for (; burst > 0 && index < cmd.size(); --burst) port_.write(kDataFifo, 1, cmd[index++]);
  }
  if (ok && !wait_bits(kStatus, kValid, kStsExpect)) {
    err = "Expect did not clear";
    ok = false;
  }
  if (ok) {
    port_.write(kStatus, 1, kStsGo);
    if (!wait_bits(kStatus, kValid | kStsData, 0)) {
      err = "no response";
      ok = false;
    }
  }
  rsp.clear();
  index = 0;
  burst = 0;
  while (ok && index < kHeaderSize) {
    if (!burst_count(burst)) {
      err = "burstCount stayed 0 (header)";
      ok = false;
      break;
    }
    for (; burst > 0; --burst) {
      rsp.push_back(static_cast<uint8_t>(port_.read(kDataFifo, 1)));
      if (++index == kHeaderSize) break;
    }
  }
  if (ok && ((rsp[0] << 8) | rsp[1]) == kTpmStRspCommand) {
    err = "TPM_ST_RSP_COMMAND";
    ok = false;
  }
  if (ok) {
    const uint32_t out_size = (uint32_t{rsp[2]} << 24) | (uint32_t{rsp[3]} << 16) | (uint32_t{rsp[4]} << 8) | rsp[5];
    if (out_size > 4096 || out_size < kHeaderSize) {
      err = "bad response size";
      ok = false;
    }
    while (ok && index < out_size) {
      for (; burst > 0; --burst) {
        rsp.push_back(static_cast<uint8_t>(port_.read(kDataFifo, 1)));
        if (++index == out_size) break;
      }
      if (index == out_size) break;
      if (!burst_count(burst)) {
        err = "burstCount stayed 0 (body)";
        ok = false;
      }
    }
  }
  port_.write(kStatus, 1, kStsReady);  // Exit:
  return ok;
}

}  // namespace mamori::test
