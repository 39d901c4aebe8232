// A replay of OVMF's TPM FIFO driver (edk2 SecurityPkg/Library/
// Tpm2DeviceLibDTpm/Tpm2Tis.c: TisPcRequestUseTpm, Tpm2TisTpmCommand),
// which differs from Linux in ways the model must also serve:
//   - burstCount is read as two byte reads at 0x19 and 0x1A;
//   - the whole command, last byte included, goes out in burstCount chunks,
//     then STS is polled for stsValid with Expect clear;
//   - commandReady is written before and after every command, and the
//     locality is kept (never relinquished).
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "tests/unit/common/mmio_port.hpp"

namespace mamori::test {

class OvmfTisDriver {
 public:
  OvmfTisDriver(MmioPort& port, SleepHook sleep) : port_(port), sleep_(std::move(sleep)) {}

  bool request_use(std::string& err);  // TisPcRequestUseTpm
  bool command(const std::vector<uint8_t>& cmd, std::vector<uint8_t>& rsp, std::string& err);  // Tpm2TisTpmCommand

  static constexpr int kMaxPolls = 1000;

 private:
  bool wait_bits(uint64_t reg, uint8_t set, uint8_t clear);  // TisPcWaitRegisterBits
  bool burst_count(uint16_t& out);                             // TisPcReadBurstCount

  MmioPort& port_;
  SleepHook sleep_;
};

}  // namespace mamori::test
