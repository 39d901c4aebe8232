// The machine's own TPM as the VMM uses it: found at boot (discovery.hpp),
// reached through the FIFO or CRB transport over the identity-mapped,
// uncached MMIO window (docs/boot.md) with the TSC as clock, and queried
// through the command layer. Each use opens the transport and closes it
// again, so the firmware's locality and idle state are left as found.
#pragma once
#include "drivers/tpm/discovery.hpp"
#include "drivers/tpm/tpm_commands.hpp"

namespace mamori::drivers::tpm {

// Locates the TPM, reads its properties and PCR banks, runs GetRandom and
// a PCR_Read of PCR 0 as a round-trip check, and logs the result.
void platform_tpm_init(bool tpm2_table, uint32_t start_method, uint64_t control_area);
// The shell's `tpm info`: queries the TPM again and prints what it says.
void platform_tpm_print();
bool platform_tpm_present();

}  // namespace mamori::drivers::tpm
