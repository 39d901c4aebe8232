// Which interface the platform TPM has and where: the ACPI TPM2 table's
// start method and control area first (TCG ACPI Specification 1.3, "TPM2"
// table; Start Method 6 = FIFO at 0xFED40000, 7 = CRB whose control area
// the table gives), the read-only probe of 0xFED40000 (tpm_probe.hpp) when
// there is no table. Pure: the VMM passes what ACPI parsing and the probe
// found.
#pragma once
#include <stdint.h>

#include "drivers/tpm/tpm_probe.hpp"

namespace mamori::drivers::tpm {

enum class TpmKind : uint8_t { None, Fifo, Crb };

struct TpmLocation {
  TpmKind kind = TpmKind::None;
  uint64_t base = 0;            // locality-0 register page
  bool from_acpi = false;       // false: found by the 0xFED40000 probe
  const char* why = nullptr;    // for None: the reason
};

// The CRB control area (TPM_CRB_CTRL_REQ_0) sits at offset 0x40 of the
// locality-0 page (PTP §6.5.2 Table 30).
inline constexpr uint64_t kCrbControlAreaOffset = 0x40;

TpmLocation locate_tpm(bool tpm2_table, uint32_t start_method, uint64_t control_area, const ProbeResult& probe);
const char* tpm_kind_name(TpmKind k);

}  // namespace mamori::drivers::tpm
