// TPM Command Response Buffer (CRB) interface register map.
//
// Source: TCG PC Client Platform TPM Profile (PTP) Specification, Family 2.0,
// "CRB Interface" chapter: locality registers (TPM_LOC_STATE_x ...) and the
// control area (TPM_CRB_CTRL_*_x), one 4 KiB page per locality at
// 0xFED40000 + locality * 0x1000; the data buffer follows the control area
// at offset 0x80 (TPM_CRB_DATA_BUFFER_x).
#pragma once

#include <stdint.h>

#include "vtpm/common/mmio.hpp"

namespace mamori::vtpm::crb {

inline constexpr uint64_t kCrbBaseGpa = 0xFED40000;
using vtpm::kLocalityStride;  // the shared window layout (vtpm/common/mmio.hpp)
using vtpm::kWindowSize;

struct Reg {
  uint16_t offset;
  uint8_t width;
};
inline constexpr Reg kLocState{0x00, 4};
inline constexpr Reg kLocCtrl{0x08, 4};
inline constexpr Reg kLocSts{0x0C, 4};
inline constexpr Reg kIntfId{0x30, 8};
inline constexpr Reg kCtrlExt{0x38, 8};
inline constexpr Reg kCtrlReq{0x40, 4};
inline constexpr Reg kCtrlSts{0x44, 4};
inline constexpr Reg kCtrlCancel{0x48, 4};
inline constexpr Reg kCtrlStart{0x4C, 4};
inline constexpr Reg kIntEnable{0x50, 4};
inline constexpr Reg kIntSts{0x54, 4};
inline constexpr Reg kCmdSize{0x58, 4};
inline constexpr Reg kCmdLaddr{0x5C, 4};
inline constexpr Reg kCmdHaddr{0x60, 4};
inline constexpr Reg kRspSize{0x64, 4};
inline constexpr Reg kRspAddr{0x68, 8};
inline constexpr uint16_t kDataBuffer = 0x80;
// The data buffer fills the rest of the locality page: 0xF80 bytes, the
// command and response size the control area reports (QEMU's layout).
inline constexpr uint32_t kDataBufferSize = kLocalityStride - kDataBuffer;
// Alternatively the buffer is a page of its own that the VMM maps into the
// guest (TPM_CRB_CTRL_CMD_LADDR/HADDR may point anywhere, PTP): buffer
// traffic then costs no exits.
inline constexpr uint32_t kBufferPageSize = 0x1000;

// TPM_LOC_STATE_x
namespace loc_state {
inline constexpr uint32_t kTpmEstablished = 1u << 0;  // 1 = no H-CRTM/DRTM event (as FIFO tpmEstablishment)
inline constexpr uint32_t kLocAssigned = 1u << 1;
inline constexpr uint32_t kActiveLocalityShift = 2;  // 3 bits
inline constexpr uint32_t kTpmRegValidSts = 1u << 7;
}  // namespace loc_state

// TPM_LOC_CTRL_x (write-only)
namespace loc_ctrl {
inline constexpr uint32_t kRequestAccess = 1u << 0;
inline constexpr uint32_t kRelinquish = 1u << 1;
inline constexpr uint32_t kSeize = 1u << 2;
inline constexpr uint32_t kResetEstablishment = 1u << 3;
}  // namespace loc_ctrl

// TPM_LOC_STS_x
namespace loc_sts {
inline constexpr uint32_t kGranted = 1u << 0;
inline constexpr uint32_t kBeenSeized = 1u << 1;
}  // namespace loc_sts

// TPM_CRB_INTF_ID_x (64 bits)
namespace intf_id {
inline constexpr uint64_t kTypeCrb = 0x1;              // bits 3:0 InterfaceType
inline constexpr uint64_t kVersionCrb = 0x1u << 4;     // bits 7:4 InterfaceVersion
inline constexpr uint64_t kCapLocality = 1u << 8;
inline constexpr uint64_t kCapCrbIdleBypass = 1u << 9;
inline constexpr uint64_t kCapDataXfer64 = 3u << 11;   // bits 12:11
inline constexpr uint64_t kCapFifo = 1u << 13;
inline constexpr uint64_t kCapCrb = 1u << 14;
inline constexpr uint64_t kSelectorCrb = 1u << 17;     // bits 18:17 = 01
inline constexpr uint64_t kIntfSelLock = 1u << 19;
inline constexpr uint32_t kRidShift = 24;
inline constexpr uint32_t kVidShift = 32;
inline constexpr uint32_t kDidShift = 48;
}  // namespace intf_id

// TPM_CRB_CTRL_REQ_x
namespace ctrl_req {
inline constexpr uint32_t kCmdReady = 1u << 0;
inline constexpr uint32_t kGoIdle = 1u << 1;
}  // namespace ctrl_req

// TPM_CRB_CTRL_STS_x
namespace ctrl_sts {
inline constexpr uint32_t kTpmSts = 1u << 0;  // fatal error
inline constexpr uint32_t kTpmIdle = 1u << 1;
}  // namespace ctrl_sts

inline constexpr uint32_t kCancelInvoke = 1u << 0;  // TPM_CRB_CTRL_CANCEL_x
inline constexpr uint32_t kStartInvoke = 1u << 0;   // TPM_CRB_CTRL_START_x

// TPM_CRB_INT_ENABLE_x / TPM_CRB_INT_STS_x
namespace intr {
inline constexpr uint32_t kStart = 1u << 0;  // command completed (START cleared)
inline constexpr uint32_t kCmdReady = 1u << 1;
inline constexpr uint32_t kEstablishmentClear = 1u << 2;
inline constexpr uint32_t kLocalityChange = 1u << 3;
inline constexpr uint32_t kGlobalEnable = 1u << 31;
inline constexpr uint32_t kEventMask = kStart | kCmdReady | kEstablishmentClear | kLocalityChange;
inline constexpr uint32_t kEnableWritable = kEventMask | kGlobalEnable;
}  // namespace intr

}  // namespace mamori::vtpm::crb
