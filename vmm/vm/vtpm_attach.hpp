// A guest's TPM device: the TIS (vtpm/tis) or CRB (vtpm/crb) register model at 0xFED40000,
// behind the guest's EPT as an emulated MMIO region.
//
// The engine behind it (vtpm-service in the service partition) is not
// wired into the VMM yet: until it is, every command the guest sends is
// answered TPM_RC_FAILURE, and the console says so once per guest. The
// register interface itself (localities, STS, FIFO, DID_VID, ...) is the
// full model, so drivers probe and talk to it exactly as they will.
#pragma once

namespace mamori::vm {
struct Guest;
inline constexpr unsigned long long kTpmWindowGpa = 0xFED40000ull;
inline constexpr unsigned long long kTpmWindowSize = 0x5000ull;  // localities 0-4
bool attach_tis(Guest& g);
// CRB (PTP §6.4): control area at 0xFED40040, data buffer trapped at +0x80.
bool attach_crb(Guest& g);
}  // namespace mamori::vm
