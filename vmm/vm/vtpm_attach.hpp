// A guest's TPM device: the TIS (vtpm/tis) or CRB (vtpm/crb) register model at 0xFED40000,
// behind the guest's EPT as an emulated MMIO region.
//
// Behind the model: the guest's own vtpm-service process in the service
// partition (vmm/partition/vtpm_engine.hpp), started when the guest is
// created, when \mamori\vtpm-service is on the boot volume. Without that
// file (or if the engine fails to start) the model is still there and
// every command is answered TPM_RC_FAILURE, with a console message.
#pragma once
#include "boot/bootinfo.hpp"
#include "vtpm/common/mmio.hpp"
#include "vtpm/common/tpm_backend.hpp"

namespace mamori::vm {
struct Guest;
// The boot volume's files: each guest's engine image (config `engine`,
// default vtpm-service) is found among them.
void set_vtpm_files(const boot::BootInfo& bi);
// A platform reset of the guest's TPM (guest restart): the register model
// back to its reset state and _TPM_Init to the engine.
void reset_tpm(Guest& g);
// The guest's running vTPM engine, for the VMM's own commands before the
// guest runs (its measured launch); null when it has none.
vtpm::TpmBackend* vtpm_engine(Guest& g);
// The engine of a guest's TPM, if one runs (for `vm info`).
const char* vtpm_engine_status(const Guest& g);
inline constexpr unsigned long long kTpmWindowGpa = 0xFED40000ull;
inline constexpr unsigned long long kTpmWindowSize = vtpm::kWindowSize;  // localities 0-4
bool attach_tis(Guest& g);
// CRB (PTP §6.4): control area at 0xFED40040, data buffer trapped at +0x80.
bool attach_crb(Guest& g);
}  // namespace mamori::vm
