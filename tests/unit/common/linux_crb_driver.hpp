// A replay of Linux's CRB driver (drivers/char/tpm/tpm_crb.c, Linux 6.1,
// start method 7 "Command Response Buffer" as on QEMU's tpm-crb), with
// tpm_chip_start/tpm_chip_stop around every command:
//   request locality: write32 LOC_CTRL=requestAccess; poll read32 LOC_STATE
//   cmd_ready: write32 CTRL_REQ=cmdReady; poll read32 CTRL_REQ until bit 0 = 0
//   send: write32 CTRL_CANCEL=0; memcpy_toio(buffer); write32 CTRL_START=1
//   wait: read32 CTRL_START until 0 (then read32 CTRL_CANCEL if not done)
//   recv: read32 CTRL_STS (tpmSts error); memcpy_fromio 8 bytes; the rest
//   go_idle: write32 CTRL_REQ=goIdle; poll read32 CTRL_REQ until bit 1 = 0
//   relinquish: write32 LOC_CTRL=relinquish; poll read32 LOC_STATE
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "tests/unit/common/mmio_port.hpp"

namespace mamori::test {

class LinuxCrbDriver {
 public:
  LinuxCrbDriver(MmioPort& port, SleepHook sleep) : port_(port), sleep_(std::move(sleep)) {}

  // Guest memory the driver reaches without traps: the CRB data buffer
  // when the device places it in a page of its own at `gpa`.
  void map_buffer_page(uint64_t gpa, MmioPort& memory) {
    page_gpa_ = gpa;
    page_port_ = &memory;
  }

  // crb_map_io: reads the buffer addresses and sizes under locality 0 and
  // cmdReady, then goes idle. The buffer must be at base + 0x80 (trapped,
  // through the register port) or at the mapped page.
  bool probe(uint64_t base_gpa, std::string& err);
  bool transmit(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err);

  uint32_t cmd_size() const { return cmd_size_; }
  static constexpr int kMaxPolls = 1000;

 private:
  bool wait_reg(uint64_t reg, uint32_t mask, uint32_t value);
  bool request_locality(std::string& err);
  bool relinquish_locality(std::string& err);
  bool cmd_ready(std::string& err);
  bool go_idle(std::string& err);
  bool send(const std::vector<uint8_t>& cmd, std::string& err);
  bool recv(std::vector<uint8_t>& rsp, std::string& err);

  MmioPort& port_;
  SleepHook sleep_;
  MmioPort* buffer_port_ = &port_;
  uint64_t buffer_offset_ = 0x80;
  uint64_t page_gpa_ = 0;
  MmioPort* page_port_ = nullptr;
  uint32_t cmd_size_ = 0;
};

}  // namespace mamori::test
