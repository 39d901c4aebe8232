#include "drivers/tpm/discovery.hpp"

#include "vmm/core/tpm2_table.hpp"

namespace mamori::drivers::tpm {

TpmLocation locate_tpm(bool tpm2_table, uint32_t start_method, uint64_t control_area, const ProbeResult& probe) {
  TpmLocation l;
  if (tpm2_table) {
    l.from_acpi = true;
    switch (static_cast<core::Tpm2StartMethod>(start_method)) {
      case core::Tpm2StartMethod::Tis:
        l.kind = TpmKind::Fifo;
        l.base = kTpmBase;
        return l;
      case core::Tpm2StartMethod::Crb:
        if (control_area < kCrbControlAreaOffset || (control_area & 0xFFF) != kCrbControlAreaOffset) {
          l.why = "TPM2 table: CRB control area is not at offset 0x40 of a page";
          return l;
        }
        l.kind = TpmKind::Crb;
        l.base = control_area - kCrbControlAreaOffset;
        return l;
      default:
        // ACPI-start (_DSM), Arm SMC/FF-A, Pluton: a start the VMM cannot
        // perform without an AML interpreter or firmware calls.
        l.why = "TPM2 table: start method not supported by the driver (needs ACPI or firmware calls)";
        return l;
    }
  }
  switch (probe.interface) {
    case Interface::Fifo:
    case Interface::Tis13:
      l.kind = TpmKind::Fifo;
      l.base = kTpmBase;
      return l;
    case Interface::Crb:
      l.kind = TpmKind::Crb;
      l.base = kTpmBase;
      return l;
    case Interface::None:
      break;
  }
  l.why = "no TPM2 table and nothing answers at 0xFED40000";
  return l;
}

const char* tpm_kind_name(TpmKind k) {
  switch (k) {
    case TpmKind::None: return "none";
    case TpmKind::Fifo: return "FIFO/TIS";
    case TpmKind::Crb: return "CRB";
  }
  return "?";
}

}  // namespace mamori::drivers::tpm
