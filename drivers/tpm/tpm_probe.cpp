#include "tpm_probe.hpp"

namespace mamori::drivers::tpm {
namespace {
// Locality-0 register offsets (PTP 1.05 Table 21 FIFO, Table 30 CRB).
constexpr uint64_t kFifoAccess = 0x00, kInterfaceId = 0x30, kFifoDidVid = 0xF00, kFifoRid = 0xF04;
constexpr uint64_t kCrbLocState = 0x00, kCrbIntfIdHigh = 0x34;
// INTERFACE_ID.InterfaceType, bits 3:0 (PTP §6.4.2 / §6.5.2.10).
constexpr uint32_t kTypeMask = 0xF, kTypeFifo = 0x0, kTypeCrb = 0x1, kTypeTis13 = 0xF;
constexpr uint32_t kFloatingBus = 0xFFFFFFFF;
constexpr uint8_t kAccessValid = 0x80;  // tpmRegValidSts / LOC_STATE.tpmRegValidSts

uint32_t rd32(uint64_t off) { return *reinterpret_cast<volatile uint32_t*>(kTpmBase + off); }
uint8_t rd8(uint64_t off) { return *reinterpret_cast<volatile uint8_t*>(kTpmBase + off); }
}  // namespace

ProbeResult probe() {
  ProbeResult r;
  uint32_t id = rd32(kInterfaceId);
  if (id == kFloatingBus || id == 0) {
    // A TIS 1.3 TPM has no INTERFACE_ID (reads as all ones); it still
    // answers DID_VID. Nothing at all there also reads all ones.
    uint32_t didvid = rd32(kFifoDidVid);
    if (didvid == kFloatingBus || didvid == 0) return r;
    r.interface = Interface::Tis13;
    id = kTypeTis13;
  }
  r.interface_id = id;
  switch (id & kTypeMask) {
    case kTypeFifo: r.interface = Interface::Fifo; break;
    case kTypeCrb: r.interface = Interface::Crb; break;
    case kTypeTis13: r.interface = Interface::Tis13; break;
    default: r.interface = Interface::None; return r;
  }
  if (r.interface == Interface::Crb) {
    // CRB INTF_ID bits 63:32 = DID:VID, bits 31:24 = RID (PTP Table 31).
    uint32_t high = rd32(kCrbIntfIdHigh);
    r.vendor_id = static_cast<uint16_t>(high);
    r.device_id = static_cast<uint16_t>(high >> 16);
    r.revision = static_cast<uint8_t>(id >> 24);
    r.access = rd8(kCrbLocState);
  } else {
    uint32_t didvid = rd32(kFifoDidVid);
    r.vendor_id = static_cast<uint16_t>(didvid);
    r.device_id = static_cast<uint16_t>(didvid >> 16);
    r.revision = rd8(kFifoRid);
    r.access = rd8(kFifoAccess);
  }
  if (!(r.access & kAccessValid)) r.interface = Interface::None;  // registers not valid: not a TPM
  return r;
}

const char* interface_name(Interface i) {
  switch (i) {
    case Interface::None: return "none";
    case Interface::Fifo: return "FIFO (PTP)";
    case Interface::Crb: return "CRB";
    case Interface::Tis13: return "TIS 1.3";
  }
  return "?";
}

}  // namespace mamori::drivers::tpm
