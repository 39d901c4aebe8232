// A replay of OVMF's PTP probing and CRB driver (edk2 SecurityPkg/Library/
// Tpm2DeviceLibDTpm/Tpm2Ptp.c: Tpm2GetPtpInterface, PtpCrbRequestUseTpm,
// PtpCrbTpmCommand): byte-wise data-buffer accesses (MmioWrite8/MmioRead8),
// writes to the buffer address/size registers (MmioWrite64 for the
// response address), goIdle after every command.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "tests/unit/common/mmio_port.hpp"

namespace mamori::test {

enum class PtpInterface { Fifo, Crb, Tis, None };

// Tpm2GetPtpInterface: presence byte at 0, INTERFACE_ID (0x30) and the FIFO
// INTF_CAPABILITY (0x14) read as dwords whatever the interface.
PtpInterface ovmf_detect_interface(MmioPort& port);

class OvmfCrbDriver {
 public:
  OvmfCrbDriver(MmioPort& port, SleepHook sleep, uint64_t base_gpa)
      : port_(port), sleep_(std::move(sleep)), base_gpa_(base_gpa) {}

  bool request_use(std::string& err);
  bool command(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err);

  static constexpr int kMaxPolls = 1000;

 private:
  bool wait_bits(uint64_t reg, uint32_t set, uint32_t clear);  // PtpCrbWaitRegisterBits

  MmioPort& port_;
  SleepHook sleep_;
  uint64_t base_gpa_;
};

}  // namespace mamori::test
