#include "tests/unit/common/ovmf_crb_driver.hpp"

namespace mamori::test {
namespace {
// PTP_CRB_REGISTERS / PTP_FIFO_REGISTERS offsets (IndustryStandard/TpmPtp.h).
constexpr uint64_t kFifoIntfCapability = 0x14, kInterfaceId = 0x30;
constexpr uint64_t kLocalityControl = 0x08, kLocalityStatus = 0x0C, kCtrlRequest = 0x40, kCtrlStatus = 0x44,
                   kCtrlStart = 0x4C, kCmdSize = 0x58, kCmdLow = 0x5C, kCmdHigh = 0x60, kRspSize = 0x64,
                   kRspAddr = 0x68, kDataBuffer = 0x80;
constexpr uint32_t kDataBufferSize = 0xF80;  // sizeof (CrbReg->CrbDataBuffer)
constexpr uint32_t kLocRequestAccess = 1u << 0, kLocStatusGranted = 1u << 0;
constexpr uint32_t kReqCmdReady = 1u << 0, kReqGoIdle = 1u << 1, kStatusTpmIdle = 1u << 1, kStart = 1u << 0;
constexpr size_t kHeaderSize = 10;
constexpr uint16_t kTpmStRspCommand = 0x00C4;
}  // namespace

PtpInterface ovmf_detect_interface(MmioPort& port) {
  if (static_cast<uint8_t>(port.read(0, 1)) == 0xFF) return PtpInterface::None;  // Tpm2IsPtpPresence
  const uint32_t id = static_cast<uint32_t>(port.read(kInterfaceId, 4));
  const uint32_t cap = static_cast<uint32_t>(port.read(kFifoIntfCapability, 4));
  const uint32_t type = id & 0xF, version = (id >> 4) & 0xF;
  const bool cap_fifo = (id >> 13) & 1, cap_crb = (id >> 14) & 1;
  if (type == 1 && version == 1 && cap_crb) return PtpInterface::Crb;
  if (type == 0 && version == 0 && cap_fifo && ((cap >> 28) & 7) == 3) return PtpInterface::Fifo;
  return PtpInterface::Tis;
}

bool OvmfCrbDriver::wait_bits(uint64_t reg, uint32_t set, uint32_t clear) {
  for (int i = 0; i < kMaxPolls; ++i) {
    const uint32_t v = static_cast<uint32_t>(port_.read(reg, 4));
    if ((v & set) == set && (v & clear) == 0) return true;
    sleep_();
  }
  return false;
}

bool OvmfCrbDriver::request_use(std::string& err) {
  if (static_cast<uint8_t>(port_.read(0, 1)) == 0xFF) {
    err = "no TPM";
    return false;
  }
  port_.write(kLocalityControl, 4, kLocRequestAccess);
  if (!wait_bits(kLocalityStatus, kLocStatusGranted, 0)) {
    err = "locality not granted";
    return false;
  }
  return true;
}

bool OvmfCrbDriver::command(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err) {
  bool ok = true;
  rsp.clear();
  port_.write(kCtrlRequest, 4, kReqCmdReady);  // STEP 0
  if (!wait_bits(kCtrlRequest, 0, kReqCmdReady) || !wait_bits(kCtrlStatus, 0, kStatusTpmIdle)) {
    err = "not ready";
    ok = false;
  }
  if (ok) {  // STEP 1
    for (size_t i = 0; i < cmd.size(); ++i) port_.write(kDataBuffer + i, 1, cmd[i]);
    const uint64_t buf = base_gpa_ + kDataBuffer;
    port_.write(kCmdHigh, 4, buf >> 32);
    port_.write(kCmdLow, 4, buf & 0xFFFFFFFFu);
    port_.write(kCmdSize, 4, kDataBufferSize);
    port_.write(kRspAddr, 8, buf & 0xFFFFFFFFu);  // MmioWrite64 of a UINT32 cast, as edk2
    port_.write(kRspSize, 4, kDataBufferSize);
    port_.write(kCtrlStart, 4, kStart);  // STEP 2
    if (!wait_bits(kCtrlStart, 0, kStart)) {
      err = "START never cleared";
      ok = false;
    }
  }
  if (ok) {  // STEP 3
    for (size_t i = 0; i < kHeaderSize; ++i) rsp.push_back(static_cast<uint8_t>(port_.read(kDataBuffer + i, 1)));
    const uint32_t out = (uint32_t{rsp[2]} << 24) | (uint32_t{rsp[3]} << 16) | (uint32_t{rsp[4]} << 8) | rsp[5];
    if (((rsp[0] << 8) | rsp[1]) == kTpmStRspCommand || out > kDataBufferSize || out < kHeaderSize) {
      err = "bad response header";
      ok = false;
    } else {
      for (size_t i = kHeaderSize; i < out; ++i) rsp.push_back(static_cast<uint8_t>(port_.read(kDataBuffer + i, 1)));
    }
  }
  port_.write(kCtrlRequest, 4, kReqGoIdle);  // STEP 4
  return ok;
}

}  // namespace mamori::test
