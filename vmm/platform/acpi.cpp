#include "acpi.hpp"
#include "vmm/console.hpp"
#include "vmm/core/acpi.hpp"
#include "vmm/core/madt.hpp"
#include "vmm/core/tpm2_table.hpp"
#include "vmm/log.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::platform {
namespace {
using lib::copy_str;
using lib::str_eq;
AcpiInfo g_info;
core::MadtInfo g_madt;
uint8_t g_table_buf[64 * 1024];  // MADT/TPM2 copies; larger tables are not parsed here

// Physical memory is identity-mapped (docs/boot.md). Firmware tables live
// in AcpiReclaim/AcpiNvs regions, which the frame allocator never hands out.
bool read_phys(void*, uint64_t phys, void* dst, size_t len) {
  if (phys == 0 || phys + len < phys) return false;
  auto* s = reinterpret_cast<const uint8_t*>(phys);
  auto* d = static_cast<uint8_t*>(dst);
  for (size_t i = 0; i < len; ++i) d[i] = s[i];
  return true;
}
const core::AcpiReader kReader{read_phys, nullptr};


bool load(const core::AcpiRoot& root, const char* sig, size_t& len) {
  core::AcpiTableRef ref;
  core::AcpiError e = core::acpi_find_table(kReader, root, sig, 0, ref);
  if (e == core::AcpiError::TableNotFound) return false;
  if (e == core::AcpiError::None) e = core::acpi_read_table(kReader, ref, g_table_buf, sizeof g_table_buf);
  if (e != core::AcpiError::None) {
    LOG_WARN("acpi: %s refused: %s", sig, core::describe(e));
    return false;
  }
  len = ref.length;
  return true;
}
}  // namespace

const AcpiInfo& acpi_init(uint64_t rsdp) {
  g_info = AcpiInfo{};
  g_info.rsdp = rsdp;
  core::AcpiRoot root;
  core::AcpiError e = core::acpi_parse_rsdp(kReader, rsdp, root);
  if (e != core::AcpiError::None) {
    g_info.error = core::describe(e);
    LOG_WARN("acpi: no usable tables (%s)", g_info.error);
    return g_info;
  }
  g_info.revision = root.revision;
  copy_str(g_info.oem_id, root.oem_id, sizeof g_info.oem_id);
  if (root.xsdt_error != core::AcpiError::None)
    LOG_WARN("acpi: XSDT refused (%s): using the RSDT", core::describe(root.xsdt_error));
  for (uint32_t i = 0; i < root.entry_count && g_info.table_count < AcpiInfo::kMaxTables; ++i) {
    core::AcpiTableRef ref;
    if (core::acpi_table_at(kReader, root, i, ref) != core::AcpiError::None) continue;
    unsigned n = g_info.table_count++;
    copy_str(g_info.table_sigs[n], ref.signature, 5);
    g_info.table_addrs[n] = ref.phys;
    g_info.table_lengths[n] = ref.length;
  }
  size_t len = 0;
  if (load(root, "APIC", len)) {
    e = core::madt_parse(g_table_buf, len, g_madt);
    if (e != core::AcpiError::None) {
      LOG_WARN("acpi: MADT refused at offset %zu: %s", g_madt.bad_offset, core::describe(e));
    } else {
      for (size_t i = 0; i < g_madt.cpu_count && g_info.cpu_count < AcpiInfo::kMaxCpus; ++i)
        if (g_madt.cpus[i].usable()) g_info.apic_ids[g_info.cpu_count++] = g_madt.cpus[i].apic_id;
      g_info.ioapic_count = static_cast<unsigned>(g_madt.ioapic_count);
      g_info.lapic_address = g_madt.lapic_address;
    }
  }
  if (load(root, "TPM2", len)) {
    core::Tpm2Info t;
    e = core::tpm2_parse(g_table_buf, len, t);
    if (e != core::AcpiError::None) {
      LOG_WARN("acpi: TPM2 table refused: %s", core::describe(e));
    } else {
      g_info.tpm2_present = true;
      g_info.tpm2_start_method = t.start_method;
      g_info.tpm2_control_area = t.control_area;
    }
  }
  g_info.valid = true;
  LOG_INFO("acpi: RSDP rev %u (%s) at 0x%lx, %u tables, %u CPUs in the MADT, %u I/O APICs%s", g_info.revision,
           g_info.oem_id, rsdp, g_info.table_count, g_info.cpu_count, g_info.ioapic_count,
           g_info.tpm2_present ? ", TPM2 table" : "");
  if (g_info.tpm2_present)
    LOG_INFO("acpi: TPM2 start method %u (%s), control area 0x%lx", g_info.tpm2_start_method,
             core::tpm2_start_method_name(g_info.tpm2_start_method), g_info.tpm2_control_area);
  return g_info;
}

const AcpiInfo& acpi() { return g_info; }

const char* tpm2_start_method_name(uint32_t m) { return core::tpm2_start_method_name(m); }

void acpi_print() {
  if (!g_info.valid) {
    console::printf("acpi: no usable ACPI tables (%s)\n",
                    g_info.error ? g_info.error : "the firmware published no RSDP");
    return;
  }
  console::printf("RSDP 0x%lx revision %u OEM '%s'\n", g_info.rsdp, g_info.revision, g_info.oem_id);
  for (unsigned i = 0; i < g_info.table_count; ++i)
    console::printf("  %s at 0x%lx, %u bytes\n", g_info.table_sigs[i], g_info.table_addrs[i], g_info.table_lengths[i]);
  console::printf("MADT: %u usable CPUs, %u I/O APICs, local APIC at 0x%lx\n", g_info.cpu_count, g_info.ioapic_count,
                  g_info.lapic_address);
  if (g_info.tpm2_present)
    console::printf("TPM2: start method %u (%s), control area 0x%lx\n", g_info.tpm2_start_method,
                    tpm2_start_method_name(g_info.tpm2_start_method), g_info.tpm2_control_area);
  else
    console::printf("TPM2: no table\n");
}

}  // namespace mamori::platform
