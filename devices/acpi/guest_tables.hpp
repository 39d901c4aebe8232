// The ACPI tables of one guest, built by the VMM from its configuration
// (docs/devices.md#acpi): RSDP, XSDT and RSDT, FADT with the PM blocks of
// pm.hpp, FACS, the DSDT compiled from dsdt.asl by iasl, MADT (one local
// APIC per vCPU, the IOAPIC, the ISA overrides, LINT1 as NMI) and TPM2
// (start method TIS or CRB) when the guest has a TPM.
//
// Pure: writes into a caller's buffer that the VMM copies into guest RAM
// at `base_gpa`; every address in the tables is guest-physical.
//
// References: ACPI 6.4 §5.2.5 (RSDP), §5.2.7/§5.2.8 (RSDT/XSDT), §5.2.9
// (FADT, Table 5.9), §5.2.10 (FACS), §5.2.12 (MADT), §5.2.3.2 (Generic
// Address Structure); TCG ACPI Specification 1.3 §8 (TPM2 table).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::devices::acpi {

enum class TpmInterface : uint8_t { None, Tis, Crb };

// The fixed platform every guest sees (the e820 map marks these reserved).
inline constexpr uint64_t kDefaultTablesGpa = 0xE0000;  // legacy RSDP search range (§5.2.5.1)
inline constexpr size_t kTablesMaxBytes = 0x4000;
inline constexpr uint32_t kLapicGpa = 0xFEE00000;
inline constexpr uint32_t kIoApicGpa = 0xFEC00000;
inline constexpr uint8_t kIoApicId = 0;              // vCPU APIC IDs are 0..n-1; the IOAPIC ID space is separate
inline constexpr uint32_t kIoApicPins = 24;
inline constexpr uint32_t kTpmWindowGpa = 0xFED40000;
inline constexpr uint32_t kTpmWindowBytes = 0x5000;  // five localities (TCG PTP §5.2)
inline constexpr uint32_t kCrbControlAreaGpa = kTpmWindowGpa + 0x40;  // locality 0's control area (PTP §6.4.3)
inline constexpr uint16_t kSciIrq = 9;               // ISA IRQ 9, level, active high (as on PIIX/ICH)
inline constexpr unsigned kMaxVcpus = 64;

struct GuestPlatform {
  unsigned vcpus = 1;                   // APIC IDs and ACPI processor UIDs 0..vcpus-1
  TpmInterface tpm = TpmInterface::None;
  uint64_t tpm_log_gpa = 0;             // TCG event log (LASA), 0: none
  uint32_t tpm_log_bytes = 0;           // LAML
};

enum class BuildError : uint8_t { None, BufferTooSmall, BadVcpuCount, BadBase };
const char* describe(BuildError e);

struct TableLayout {
  uint64_t rsdp_gpa = 0;   // what boot_params.acpi_rsdp_addr / hvm_start_info.rsdp_paddr carry
  size_t bytes = 0;        // used from base_gpa
  // Guest-physical addresses of each table (for tests and `vm info`).
  uint64_t xsdt = 0, rsdt = 0, fadt = 0, facs = 0, dsdt = 0, madt = 0, tpm2 = 0;
};

// Writes the tables for `p` into buf[0..cap), as they will sit at
// base_gpa (16-byte aligned, below 4 GiB: the RSDT and FADT hold 32-bit
// addresses too).
BuildError build_tables(const GuestPlatform& p, uint64_t base_gpa, uint8_t* buf, size_t cap, TableLayout& out);

// The AML the DSDT carries (iasl's output, for tests).
const uint8_t* dsdt_aml(size_t* len);

}  // namespace mamori::devices::acpi
