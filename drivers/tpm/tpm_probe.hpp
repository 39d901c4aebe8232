// Finding the platform's physical TPM at the PC-client address
// 0xFED40000 (TCG PC Client Platform TPM Profile (PTP) 1.05, §5.4 and
// §6.5 FIFO / §6.4 CRB register maps). Read-only: the firmware holds
// locality 0 and has started the TPM; the probe changes nothing.
#pragma once
#include <stdint.h>

namespace mamori::drivers::tpm {

inline constexpr uint64_t kTpmBase = 0xFED40000;

enum class Interface : uint8_t { None, Fifo, Crb, Tis13 };

struct ProbeResult {
  Interface interface = Interface::None;
  uint16_t vendor_id = 0, device_id = 0;
  uint8_t revision = 0;
  uint32_t interface_id = 0;  // low 32 bits of TPM_INTERFACE_ID_0 / CRB INTF_ID
  uint8_t access = 0;         // TPM_ACCESS_0 (FIFO) or LOC_STATE_0 low byte (CRB)
};

ProbeResult probe();
const char* interface_name(Interface i);

}  // namespace mamori::drivers::tpm
