// TPM2 ACPI table decoding, and the CRB control area's buffer description.
//
// Buffer parser like madt.hpp. The table says how the platform TPM is
// reached (start method) and where its CRB control area and event log are.
//
// References: TCG ACPI Specification, Family "1.2" and "2.0", Version 1.3
// ("TPM2" ACPI table: Platform Class, Address of CRB Control Area, Start
// Method, Start Method Specific Parameters, LAML, LASA; start method values
// as in ACPICA actbl3.h); TCG PC Client Platform TPM Profile (PTP)
// Specification, CRB interface control area layout.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "acpi.hpp"

namespace mamori::core {

// Start Method values (TCG ACPI Specification, TPM2 table).
enum class Tpm2StartMethod : uint32_t {
  NotAllowed = 0,
  AcpiStart = 2,              // TPM started through an ACPI _DSM
  Tis = 6,                    // "Memory mapped I/O": TIS/FIFO at 0xFED40000
  Crb = 7,                    // Command Response Buffer
  CrbWithAcpiStart = 8,
  CrbWithArmSmc = 11,
  CrbWithPluton = 13,
  CrbWithArmFfa = 15,
};
const char* tpm2_start_method_name(uint32_t start_method);
bool tpm2_start_method_is_crb(uint32_t start_method);

inline constexpr size_t kTpm2MinLength = 52;         // header + fields up to Start Method
inline constexpr size_t kTpm2MaxStartParams = 12;    // size QEMU and Linux use
inline constexpr size_t kTpm2LengthWithLog = 76;     // 52 + 12 params + LAML(4) + LASA(8)

struct Tpm2Info {
  uint8_t revision;           // table revision (4 = TCG ACPI 1.2+)
  uint16_t platform_class;    // 0 client, 1 server
  uint64_t control_area;      // CRB control area (CRB methods), else typically 0
  uint32_t start_method;      // raw value; see Tpm2StartMethod
  uint8_t start_params[kTpm2MaxStartParams];
  size_t start_params_length; // bytes present in the table (0..12)
  bool has_log;               // LAML/LASA present and non-zero
  uint32_t log_min_length;    // LAML
  uint64_t log_address;       // LASA
};

AcpiError tpm2_parse(const uint8_t* table, size_t len, Tpm2Info& out);

// CRB control area (PTP spec): the command and response buffers the driver
// uses. `regs` is a copy of the first kCrbControlAreaLength bytes of the
// control area (read by the driver with 32-bit MMIO accesses).
inline constexpr size_t kCrbControlAreaLength = 0x30;
struct CrbBuffers {
  uint64_t command_address;
  uint32_t command_size;
  uint64_t response_address;
  uint32_t response_size;
};
AcpiError crb_decode_control_area(const uint8_t* regs, size_t len, CrbBuffers& out);

}  // namespace mamori::core
