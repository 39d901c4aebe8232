// What the VMM learned from the firmware's ACPI tables (via the pure
// parser in vmm/core), kept for the shell and for CPU bring-up.
#pragma once
#include <stdint.h>

namespace mamori::platform {

struct AcpiInfo {
  static constexpr unsigned kMaxCpus = 64, kMaxTables = 48;
  bool valid = false;
  uint64_t rsdp = 0;
  uint8_t revision = 0;
  char oem_id[7] = {};
  unsigned table_count = 0;
  char table_sigs[kMaxTables][5] = {};
  uint64_t table_addrs[kMaxTables] = {};
  uint32_t table_lengths[kMaxTables] = {};
  unsigned cpu_count = 0;
  uint32_t apic_ids[kMaxCpus] = {};
  unsigned ioapic_count = 0;
  uint64_t lapic_address = 0;
  bool tpm2_present = false;
  uint32_t tpm2_start_method = 0;
  uint64_t tpm2_control_area = 0;
  const char* error = nullptr;  // why `valid` is false
};

// Parses from the RSDP the loader found; logs what it finds or refuses.
const AcpiInfo& acpi_init(uint64_t rsdp);
const AcpiInfo& acpi();
void acpi_print();
const char* tpm2_start_method_name(uint32_t m);

}  // namespace mamori::platform
