// A replay of Linux's TPM FIFO driver (drivers/char/tpm/tpm_tis_core.c with
// the MMIO phy tpm_tis.c, polling mode as with tpm_tis.interrupts=0, Linux
// 6.1 as shipped by Debian 12): the same registers, sizes and order.
//   request locality: read8 ACCESS; write8 ACCESS=requestUse; poll read8 ACCESS
//   send: read8 STS (the STS & 0x23 read-zero check); commandReady if needed;
//         bursts: read32 STS for burstCount, write8 per byte for len-1 bytes,
//         read8 STS (stsValid), read8 STS (Expect must be 1); last byte,
//         read8 STS (stsValid), read8 STS (Expect must be 0); write8 STS=tpmGo
//   wait: read8 STS until dataAvail|stsValid
//   recv: header (10 bytes) then body: per chunk read8 STS (dataAvail|valid),
//         read32 STS (burstCount), read8 DATA_FIFO per byte; then read8 STS
//         (stsValid) and read8 STS (dataAvail must be 0); write8 STS=commandReady
//   relinquish: write8 ACCESS=activeLocality
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "tests/unit/common/mmio_port.hpp"

namespace mamori::test {

class LinuxTisDriver {
 public:
  LinuxTisDriver(MmioPort& port, SleepHook sleep) : port_(port), sleep_(std::move(sleep)) {}

  // tpm_tis_core_init: DID_VID, wait_startup (ACCESS valid), interrupt
  // mask written under locality 0, a TPM2 probe command, RID,
  // INTF_CAPABILITY. `probe_cmd` is what tpm2_probe sends.
  bool probe(const std::vector<uint8_t>& probe_cmd, std::string& err);
  // tpm_transmit with tpm_chip_start/stop around it.
  bool transmit(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err);

  uint32_t did_vid() const { return did_vid_; }
  uint8_t rid() const { return rid_; }
  uint32_t intf_caps() const { return intf_caps_; }

  static constexpr int kMaxPolls = 1000;  // stands in for the driver's timeouts

 private:
  bool request_locality(std::string& err);
  void relinquish_locality();
  uint8_t status();
  bool wait_for_stat(uint8_t mask, std::string& err);
  uint32_t get_burstcount(std::string& err);
  bool send_data(const std::vector<uint8_t>& cmd, std::string& err);
  bool recv_data(std::vector<uint8_t>& buf, size_t count, std::string& err);
  bool recv(std::vector<uint8_t>& rsp, std::string& err);

  MmioPort& port_;
  SleepHook sleep_;
  uint32_t did_vid_ = 0;
  uint8_t rid_ = 0;
  uint32_t intf_caps_ = 0;
};

}  // namespace mamori::test
