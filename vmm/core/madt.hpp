// MADT ("APIC") decoding: the CPUs, I/O APICs, interrupt source overrides,
// local APIC NMI wiring and the local APIC address.
//
// Buffer parser: the table has been copied out of firmware memory
// (acpi_read_table) and is re-checked here (signature, length, checksum).
// Every entry's Length is checked before use: an entry of Length 0 or 1
// would make a naive walk loop forever, one that runs past the table end
// would read outside it.
//
// Reference: ACPI 6.4 §5.2.12 (MADT) and its entry types §5.2.12.2
// (Processor Local APIC), §5.2.12.3 (I/O APIC), §5.2.12.5 (Interrupt Source
// Override), §5.2.12.7 (Local APIC NMI), §5.2.12.8 (Local APIC Address
// Override), §5.2.12.12 (Processor Local x2APIC), §5.2.12.13 (Local x2APIC NMI).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "acpi.hpp"

namespace mamori::core {

inline constexpr size_t kMadtMaxCpus = 256;
inline constexpr size_t kMadtMaxIoApics = 16;
inline constexpr size_t kMadtMaxOverrides = 32;
inline constexpr size_t kMadtMaxNmis = 16;
// §5.2.12.7 / §5.2.12.13: this processor UID means "all processors".
inline constexpr uint32_t kMadtAllProcessors8 = 0xff;
inline constexpr uint32_t kMadtAllProcessors32 = 0xffffffff;

struct MadtCpu {
  uint32_t apic_id;        // x2APIC ID, or 8-bit xAPIC ID
  uint32_t acpi_uid;       // ACPI processor UID
  bool enabled;            // Local APIC Flags bit 0: usable now
  bool online_capable;     // bit 1: may be enabled later (only meaningful if !enabled)
  bool x2apic;             // came from a Processor Local x2APIC entry
  bool usable() const { return enabled; }
};

struct MadtIoApic {
  uint8_t id;
  uint32_t address;        // MMIO base
  uint32_t gsi_base;       // first global system interrupt it serves
};

struct MadtOverride {
  uint8_t bus;             // 0 = ISA
  uint8_t source;          // bus-relative IRQ
  uint32_t gsi;
  uint16_t flags;          // MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2
};

struct MadtNmi {
  uint32_t acpi_uid;       // kMadtAllProcessors8/32 for all
  uint16_t flags;          // MPS INTI flags
  uint8_t lint;            // LINT0 or LINT1
  bool x2apic;
};

struct MadtInfo {
  uint64_t lapic_address;      // 32-bit field, or the 64-bit override entry
  bool lapic_address_overridden;
  bool pcat_compat;            // MADT Flags bit 0: 8259 PICs present (mask them)
  MadtCpu cpus[kMadtMaxCpus];
  size_t cpu_count;
  size_t cpus_dropped;         // beyond kMadtMaxCpus
  size_t cpu_duplicates;       // same APIC ID listed twice (xAPIC + x2APIC entry): kept once
  MadtIoApic ioapics[kMadtMaxIoApics];
  size_t ioapic_count;
  MadtOverride overrides[kMadtMaxOverrides];
  size_t override_count;
  MadtNmi nmis[kMadtMaxNmis];
  size_t nmi_count;
  size_t dropped_entries;      // I/O APICs, overrides, NMIs beyond capacity
  size_t unknown_entries;      // types not decoded (GIC, ...): skipped by Length
  size_t bad_offset;           // on an entry error: its offset in the table
  size_t usable_cpus() const {
    size_t n = 0;
    for (size_t i = 0; i < cpu_count; ++i) n += cpus[i].usable();
    return n;
  }
};

AcpiError madt_parse(const uint8_t* table, size_t len, MadtInfo& out);

}  // namespace mamori::core
