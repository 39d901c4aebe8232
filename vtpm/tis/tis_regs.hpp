// TPM FIFO (TIS) register map and bit fields.
//
// Source: TCG PC Client Platform TPM Profile (PTP) Specification, Family 2.0,
// "FIFO Interface" chapter, register space table ("Allocation of
// Register Space for FIFO TPM Access"). The window is 0xFED40000..0xFED44FFF,
// one 4 KiB page per locality.
#pragma once

#include <stdint.h>

#include "vtpm/common/mmio.hpp"

namespace mamori::vtpm::tis {

inline constexpr uint64_t kTisBaseGpa = 0xFED40000;
using vtpm::kLocalityStride;  // the shared window layout (vtpm/common/mmio.hpp)
using vtpm::kWindowSize;

// Offsets inside one locality page and their widths in bytes.
struct Reg {
  uint16_t offset;
  uint8_t width;
};
inline constexpr Reg kAccess{0x000, 1};
inline constexpr Reg kIntEnable{0x008, 4};
inline constexpr Reg kIntVector{0x00C, 1};
inline constexpr Reg kIntStatus{0x010, 4};
inline constexpr Reg kIntfCapability{0x014, 4};
inline constexpr Reg kSts{0x018, 4};
inline constexpr Reg kDataFifo{0x024, 4};
inline constexpr Reg kInterfaceId{0x030, 4};
inline constexpr Reg kXDataFifo{0x080, 4};
inline constexpr Reg kDidVid{0xF00, 4};
inline constexpr Reg kRid{0xF04, 1};

// TPM_ACCESS_x (PTP Table "TPM_ACCESS_x").
namespace access {
inline constexpr uint8_t kTpmEstablishment = 1u << 0;  // RO: 1 = no H-CRTM/DRTM event since reset
inline constexpr uint8_t kRequestUse = 1u << 1;        // W: request; R: request pending
inline constexpr uint8_t kPendingRequest = 1u << 2;    // RO: another locality requests
inline constexpr uint8_t kSeize = 1u << 3;             // W: seize from a lower locality; reads 0
inline constexpr uint8_t kBeenSeized = 1u << 4;        // R; write 1 clears
inline constexpr uint8_t kActiveLocality = 1u << 5;    // R: this locality is active; write 1 relinquishes
inline constexpr uint8_t kTpmRegValidSts = 1u << 7;    // RO: other bits valid
}  // namespace access

// TPM_INT_ENABLE_x / TPM_INT_STATUS_x (PTP "TPM_INT_ENABLE_x", "TPM_INT_STATUS_x").
namespace intr {
inline constexpr uint32_t kDataAvail = 1u << 0;
inline constexpr uint32_t kStsValid = 1u << 1;
inline constexpr uint32_t kLocalityChange = 1u << 2;
inline constexpr uint32_t kTypePolarityShift = 3;  // 2 bits: 00 high level, 01 low level, 10 rising, 11 falling
inline constexpr uint32_t kTypePolarityMask = 3u << kTypePolarityShift;
inline constexpr uint32_t kCommandReady = 1u << 7;
inline constexpr uint32_t kGlobalEnable = 1u << 31;
inline constexpr uint32_t kEventMask = kDataAvail | kStsValid | kLocalityChange | kCommandReady;
inline constexpr uint32_t kEnableWritable = kEventMask | kTypePolarityMask | kGlobalEnable;
inline constexpr uint8_t kVectorMask = 0x0F;  // TPM_INT_VECTOR_x.sirqVec
}  // namespace intr

// TPM_INTF_CAPABILITY_x (PTP "TPM_INTF_CAPABILITY_x").
namespace cap {
inline constexpr uint32_t kDataAvailIntSupport = 1u << 0;
inline constexpr uint32_t kStsValidIntSupport = 1u << 1;
inline constexpr uint32_t kLocalityChangeIntSupport = 1u << 2;
inline constexpr uint32_t kInterruptLevelHigh = 1u << 3;
inline constexpr uint32_t kInterruptLevelLow = 1u << 4;
inline constexpr uint32_t kInterruptEdgeRising = 1u << 5;
inline constexpr uint32_t kInterruptEdgeFalling = 1u << 6;
inline constexpr uint32_t kCommandReadyIntSupport = 1u << 7;
inline constexpr uint32_t kBurstCountStatic = 1u << 8;
inline constexpr uint32_t kDataTransferShift = 9;  // 2 bits: 00 legacy, 01 8 B, 10 32 B, 11 64 B max transfer
inline constexpr uint32_t kDataTransferLegacy = 0u << kDataTransferShift;
inline constexpr uint32_t kInterfaceVersionShift = 28;  // 3 bits
inline constexpr uint32_t kInterfaceVersionPtp = 3u << kInterfaceVersionShift;  // 011: TPM 2.0 FIFO
}  // namespace cap

// TPM_STS_x (PTP "TPM_STS_x").
namespace sts {
inline constexpr uint32_t kResponseRetry = 1u << 1;  // W: rewind response; reads 0
inline constexpr uint32_t kSelfTestDone = 1u << 2;
inline constexpr uint32_t kExpect = 1u << 3;
inline constexpr uint32_t kDataAvail = 1u << 4;
inline constexpr uint32_t kTpmGo = 1u << 5;  // W: execute; reads 0
inline constexpr uint32_t kCommandReady = 1u << 6;
inline constexpr uint32_t kStsValid = 1u << 7;
inline constexpr uint32_t kBurstCountShift = 8;  // 16 bits
inline constexpr uint32_t kBurstCountMax = 0xFFFF;
inline constexpr uint32_t kCommandCancel = 1u << 24;         // W; reads 0
inline constexpr uint32_t kResetEstablishment = 1u << 25;    // W (localities 3, 4); reads 0
inline constexpr uint32_t kTpmFamilyShift = 26;              // 2 bits
inline constexpr uint32_t kTpmFamily20 = 1u << kTpmFamilyShift;  // 01: TPM 2.0
// Bits Linux's tpm_tis_status() requires to read as zero (TPM_STS_READ_ZERO).
inline constexpr uint32_t kReadZero = (1u << 0) | kResponseRetry | kTpmGo;
}  // namespace sts

// TPM_INTERFACE_ID_x (PTP "TPM_INTERFACE_ID_x").
namespace ifid {
inline constexpr uint32_t kTypeFifoPtp = 0x0;      // bits 3:0 InterfaceType
inline constexpr uint32_t kVersionFifo = 0x0 << 4;  // bits 7:4 InterfaceVersion
inline constexpr uint32_t kCapLocality = 1u << 8;
inline constexpr uint32_t kCapFifo = 1u << 13;
inline constexpr uint32_t kCapCrb = 1u << 14;
inline constexpr uint32_t kSelectorFifo = 0u << 17;  // bits 18:17
inline constexpr uint32_t kIntfSelLock = 1u << 19;
inline constexpr uint32_t kRidShift = 24;
}  // namespace ifid

}  // namespace mamori::vtpm::tis
