#include "tests/unit/common/linux_crb_driver.hpp"

namespace mamori::test {
namespace {
// struct crb_regs_head / crb_regs_tail in tpm_crb.c (locality 0).
constexpr uint64_t kLocState = 0x00, kLocCtrl = 0x08, kCtrlReq = 0x40, kCtrlSts = 0x44,
                   kCtrlCancel = 0x48, kCtrlStart = 0x4C, kCmdSize = 0x58, kCmdLow = 0x5C,
                   kCmdHigh = 0x60, kRspSize = 0x64, kRspAddr = 0x68;
constexpr uint32_t kLocStateAssigned = 1u << 1, kLocStateValid = 1u << 7;
constexpr uint32_t kLocCtrlRequest = 1u << 0, kLocCtrlRelinquish = 1u << 1;
constexpr uint32_t kReqCmdReady = 1u << 0, kReqGoIdle = 1u << 1;
constexpr uint32_t kStsError = 1u << 0;
constexpr uint32_t kStartInvoke = 1u << 0, kCancelInvoke = 1u << 0;
constexpr size_t kHeaderSize = 10;
constexpr size_t kFirstRead = 8;  // crb_recv reads a quad word first
}  // namespace

bool LinuxCrbDriver::wait_reg(uint64_t reg, uint32_t mask, uint32_t value) {
  for (int i = 0; i < kMaxPolls; ++i) {
    if ((static_cast<uint32_t>(port_.read(reg, 4)) & mask) == value) return true;
    sleep_();
  }
  return false;
}

bool LinuxCrbDriver::request_locality(std::string& err) {
  port_.write(kLocCtrl, 4, kLocCtrlRequest);
  const uint32_t v = kLocStateAssigned | kLocStateValid;
  if (!wait_reg(kLocState, v, v)) {
    err = "TPM_LOC_STATE_x.requestAccess timed out";
    return false;
  }
  return true;
}

bool LinuxCrbDriver::relinquish_locality(std::string& err) {
  port_.write(kLocCtrl, 4, kLocCtrlRelinquish);
  if (!wait_reg(kLocState, kLocStateAssigned | kLocStateValid, kLocStateValid)) {
    err = "TPM_LOC_STATE_x.Relinquish timed out";
    return false;
  }
  return true;
}

bool LinuxCrbDriver::cmd_ready(std::string& err) {
  port_.write(kCtrlReq, 4, kReqCmdReady);
  if (!wait_reg(kCtrlReq, kReqCmdReady, 0)) {
    err = "cmdReady timed out";
    return false;
  }
  return true;
}

bool LinuxCrbDriver::go_idle(std::string& err) {
  port_.write(kCtrlReq, 4, kReqGoIdle);
  if (!wait_reg(kCtrlReq, kReqGoIdle, 0)) {
    err = "goIdle timed out";
    return false;
  }
  return true;
}

bool LinuxCrbDriver::probe(uint64_t base_gpa, std::string& err) {
  if (!request_locality(err) || !cmd_ready(err)) return false;
  const uint64_t cmd_pa = (uint64_t{static_cast<uint32_t>(port_.read(kCmdHigh, 4))} << 32) |
                          static_cast<uint32_t>(port_.read(kCmdLow, 4));
  cmd_size_ = static_cast<uint32_t>(port_.read(kCmdSize, 4));
  uint8_t rsp_pa_bytes[8];
  port_.copy_from(kRspAddr, rsp_pa_bytes, sizeof rsp_pa_bytes);
  uint64_t rsp_pa = 0;
  for (int i = 7; i >= 0; --i) rsp_pa = (rsp_pa << 8) | rsp_pa_bytes[i];
  const uint32_t rsp_size = static_cast<uint32_t>(port_.read(kRspSize, 4));
  bool ok = go_idle(err) && relinquish_locality(err);
  if (ok && (cmd_pa != rsp_pa || cmd_size_ != rsp_size)) {
    err = "command and response buffers differ";
    ok = false;
  } else if (ok && cmd_pa == base_gpa + 0x80) {
    buffer_port_ = &port_;
    buffer_offset_ = 0x80;
  } else if (ok && page_port_ != nullptr && cmd_pa == page_gpa_) {
    buffer_port_ = page_port_;
    buffer_offset_ = 0;
  } else if (ok) {
    err = "buffer address is neither base + 0x80 nor a mapped page";
    ok = false;
  }
  return ok;
}

bool LinuxCrbDriver::send(const std::vector<uint8_t>& cmd, std::string& err) {
  port_.write(kCtrlCancel, 4, 0);  // so the next command is not canceled
  if (cmd.size() > cmd_size_) {
    err = "command larger than the buffer (E2BIG)";
    return false;
  }
  buffer_port_->copy_to(buffer_offset_, cmd.data(), cmd.size());
  port_.write(kCtrlStart, 4, kStartInvoke);
  return true;
}

bool LinuxCrbDriver::recv(std::vector<uint8_t>& rsp, std::string& err) {
  if (port_.read(kCtrlSts, 4) & kStsError) {
    err = "CTRL_STS.tpmSts: TPM in fatal error";
    return false;
  }
  rsp.assign(kFirstRead, 0);
  buffer_port_->copy_from(buffer_offset_, rsp.data(), kFirstRead);
  const uint32_t expected = (uint32_t{rsp[2]} << 24) | (uint32_t{rsp[3]} << 16) | (uint32_t{rsp[4]} << 8) | rsp[5];
  if (expected > cmd_size_ || expected < kHeaderSize) {
    err = "bad response size";
    return false;
  }
  rsp.resize(expected);
  buffer_port_->copy_from(buffer_offset_ + kFirstRead, rsp.data() + kFirstRead, expected - kFirstRead);
  return true;
}

bool LinuxCrbDriver::transmit(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err) {
  if (!request_locality(err)) return false;  // tpm_chip_start
  if (!cmd_ready(err)) return false;
  bool ok = send(cmd, err);
  if (ok) {
    ok = false;
    for (int i = 0; i < kMaxPolls && !ok; ++i) {  // tpm_try_transmit
      if ((port_.read(kCtrlStart, 4) & kStartInvoke) == 0) {  // crb_status: complete
        ok = true;
      } else if (port_.read(kCtrlCancel, 4) & kCancelInvoke) {  // crb_req_canceled
        err = "operation canceled";
        break;
      } else {
        sleep_();
      }
    }
    if (!ok && err.empty()) err = "command timed out";
    if (ok) ok = recv(rsp, err);
  }
  std::string stop_err;
  const bool stopped = go_idle(stop_err) && relinquish_locality(stop_err);  // tpm_chip_stop
  if (ok && !stopped) {
    err = stop_err;
    ok = false;
  }
  return ok;
}

}  // namespace mamori::test
