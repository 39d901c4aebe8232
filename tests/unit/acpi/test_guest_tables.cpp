// The guest ACPI tables, checked three ways: by the VMM's own parser (what
// a careful consumer accepts), by iasl -d (the reference disassembler: its
// listing must show the fields Linux reads), and byte rules (checksums,
// alignment, every address inside the region).
#include <catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "devices/acpi/guest_tables.hpp"
#include "vmm/core/acpi.hpp"
#include "vmm/core/madt.hpp"
#include "vmm/core/tpm2_table.hpp"

using namespace mamori;
using devices::acpi::BuildError;
using devices::acpi::GuestPlatform;
using devices::acpi::TableLayout;
using devices::acpi::TpmInterface;

namespace {
constexpr uint64_t kBase = devices::acpi::kDefaultTablesGpa;

struct Built {
  std::vector<uint8_t> mem = std::vector<uint8_t>(devices::acpi::kTablesMaxBytes);
  TableLayout layout;
};

Built build(const GuestPlatform& p) {
  Built b;
  REQUIRE(devices::acpi::build_tables(p, kBase, b.mem.data(), b.mem.size(), b.layout) == BuildError::None);
  return b;
}

bool read_region(void* ctx, uint64_t phys, void* dst, size_t len) {
  auto* b = static_cast<Built*>(ctx);
  if (phys < kBase || phys - kBase + len > b->mem.size()) return false;
  std::memcpy(dst, b->mem.data() + (phys - kBase), len);
  return true;
}

std::vector<uint8_t> table_bytes(Built& b, uint64_t gpa) {
  uint32_t len;
  std::memcpy(&len, b.mem.data() + (gpa - kBase) + 4, 4);
  return std::vector<uint8_t>(b.mem.begin() + (gpa - kBase), b.mem.begin() + (gpa - kBase) + len);
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  REQUIRE(pclose(f) == 0);
  return out;
}

// iasl -d on one table, as a unit test may: the listing as text.
std::string disassemble(const std::vector<uint8_t>& t, const std::string& name) {
  char dir[] = "/tmp/mamori-acpi-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/" + name + ".dat";
  { std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(t.data()), t.size()); }
  run(std::string(MAMORI_IASL) + " -vs -d " + path + " >/dev/null 2>&1");
  std::ifstream in(std::string(dir) + "/" + name + ".dsl");
  std::stringstream ss;
  ss << in.rdbuf();
  run(std::string("rm -rf ") + dir);
  return ss.str();
}
}  // namespace

TEST_CASE("the VMM's own ACPI parser accepts every table and finds the platform") {
  for (auto tpm : {TpmInterface::Tis, TpmInterface::Crb}) {
    for (unsigned cpus : {1u, 2u, 8u}) {
      GuestPlatform p;
      p.vcpus = cpus;
      p.tpm = tpm;
      Built b = build(p);
      core::AcpiReader reader{read_region, &b};
      core::AcpiRoot root;
      REQUIRE(core::acpi_parse_rsdp(reader, b.layout.rsdp_gpa, root) == core::AcpiError::None);
      CHECK(root.revision == 2);
      CHECK(root.using_xsdt);
      CHECK(root.entry_count == 3);
      CHECK(std::string(root.oem_id) == "MAMORI");

      // The legacy scan finds the same RSDP (ACPI 6.4 §5.2.5.1: 0xE0000-0xFFFFF).
      uint64_t found = 0;
      CHECK(core::acpi_find_rsdp_legacy(reader, &found) == core::AcpiError::None);
      CHECK(found == b.layout.rsdp_gpa);

      core::AcpiTableRef ref;
      REQUIRE(core::acpi_find_table(reader, root, "APIC", 0, ref) == core::AcpiError::None);
      std::vector<uint8_t> madt(ref.length);
      REQUIRE(core::acpi_read_table(reader, ref, madt.data(), madt.size()) == core::AcpiError::None);
      static core::MadtInfo mi;
      REQUIRE(core::madt_parse(madt.data(), madt.size(), mi) == core::AcpiError::None);
      CHECK(mi.lapic_address == 0xFEE00000);
      CHECK(mi.pcat_compat);
      REQUIRE(mi.cpu_count == cpus);
      for (unsigned i = 0; i < cpus; ++i) {
        CHECK(mi.cpus[i].apic_id == i);
        CHECK(mi.cpus[i].enabled);
      }
      REQUIRE(mi.ioapic_count == 1);
      CHECK(mi.ioapics[0].address == 0xFEC00000);
      CHECK(mi.ioapics[0].gsi_base == 0);
      REQUIRE(mi.override_count == 2);
      CHECK(mi.overrides[0].source == 0);
      CHECK(mi.overrides[0].gsi == 2);
      CHECK(mi.overrides[1].source == 9);
      CHECK(mi.overrides[1].flags == 0xD);
      REQUIRE(mi.nmi_count == 1);
      CHECK(mi.nmis[0].lint == 1);

      REQUIRE(core::acpi_find_table(reader, root, "TPM2", 0, ref) == core::AcpiError::None);
      std::vector<uint8_t> t2(ref.length);
      REQUIRE(core::acpi_read_table(reader, ref, t2.data(), t2.size()) == core::AcpiError::None);
      core::Tpm2Info ti;
      REQUIRE(core::tpm2_parse(t2.data(), t2.size(), ti) == core::AcpiError::None);
      CHECK(ti.start_method == (tpm == TpmInterface::Crb ? 7u : 6u));
      CHECK(ti.control_area == (tpm == TpmInterface::Crb ? 0xFED40040u : 0u));
      CHECK_FALSE(ti.has_log);

      REQUIRE(core::acpi_find_table(reader, root, "FACP", 0, ref) == core::AcpiError::None);
      CHECK(ref.length == 276);
      CHECK(ref.revision == 6);
    }
  }
}

TEST_CASE("a guest without a TPM gets no TPM2 table and a TPM device that is not present") {
  GuestPlatform p;
  p.tpm = TpmInterface::None;
  Built b = build(p);
  core::AcpiReader reader{read_region, &b};
  core::AcpiRoot root;
  REQUIRE(core::acpi_parse_rsdp(reader, b.layout.rsdp_gpa, root) == core::AcpiError::None);
  CHECK(root.entry_count == 2);
  core::AcpiTableRef ref;
  CHECK(core::acpi_find_table(reader, root, "TPM2", 0, ref) == core::AcpiError::TableNotFound);
  CHECK(b.layout.tpm2 == 0);
  std::string dsl = disassemble(table_bytes(b, b.layout.dsdt), "dsdt");
  CHECK((dsl.find("Name (TPMS, Zero)") != std::string::npos || dsl.find("Name (TPMS, 0x00)") != std::string::npos));
  CHECK(dsl.find("Name (TPMS, 0x0F)") == std::string::npos);
}

TEST_CASE("the event log area is published in the TPM2 table") {
  GuestPlatform p;
  p.tpm = TpmInterface::Tis;
  p.tpm_log_gpa = 0x9F000;
  p.tpm_log_bytes = 0x1000;
  Built b = build(p);
  std::vector<uint8_t> t2 = table_bytes(b, b.layout.tpm2);
  core::Tpm2Info ti;
  REQUIRE(core::tpm2_parse(t2.data(), t2.size(), ti) == core::AcpiError::None);
  CHECK(ti.has_log);
  CHECK(ti.log_address == 0x9F000);
  CHECK(ti.log_min_length == 0x1000);
}

TEST_CASE("iasl -d decodes every table with the fields Linux relies on") {
  GuestPlatform p;
  p.vcpus = 2;
  p.tpm = TpmInterface::Crb;
  Built b = build(p);

  std::string fadt = disassemble(table_bytes(b, b.layout.fadt), "facp");
  CHECK(fadt.find("PM1A Event Block Address : 00000600") != std::string::npos);
  CHECK(fadt.find("PM1A Control Block Address : 00000604") != std::string::npos);
  CHECK(fadt.find("PM Timer Block Address : 00000608") != std::string::npos);
  CHECK(fadt.find("SCI Interrupt : 0009") != std::string::npos);
  CHECK(fadt.find("32-bit PM Timer (V1) : 1") != std::string::npos);
  CHECK(fadt.find("Reset Register Supported (V2) : 1") != std::string::npos);
  CHECK(fadt.find("Address : 0000000000000CF9") != std::string::npos);
  CHECK(fadt.find("Value to cause reset : 06") != std::string::npos);
  CHECK(fadt.find("Hypervisor ID : 202069726F6D616D") != std::string::npos);  // "mamori  ", little-endian
  CHECK(fadt.find("**** ") == std::string::npos);                      // iasl's error marker

  std::string madt = disassemble(table_bytes(b, b.layout.madt), "apic");
  CHECK(madt.find("Local Apic Address : FEE00000") != std::string::npos);
  CHECK(madt.find("Address : FEC00000") != std::string::npos);
  CHECK(madt.find("Local Apic ID : 01") != std::string::npos);
  CHECK(madt.find("Interrupt : 00000002") != std::string::npos);
  CHECK(madt.find("**** ") == std::string::npos);

  std::string tpm2 = disassemble(table_bytes(b, b.layout.tpm2), "tpm2");
  CHECK(tpm2.find("Start Method : 07") != std::string::npos);
  CHECK(tpm2.find("Control Address : 00000000FED40040") != std::string::npos);

  std::string dsdt = disassemble(table_bytes(b, b.layout.dsdt), "dsdt");
  CHECK(dsdt.find("\"MSFT0101\"") != std::string::npos);
  CHECK(dsdt.find("0xFED40000") != std::string::npos);
  CHECK(dsdt.find("EisaId (\"PNP0501\")") != std::string::npos);
  CHECK(dsdt.find("IRQNoFlags ()\n                    {4}") != std::string::npos);
  CHECK(dsdt.find("Name (TPMS, 0x0F)") != std::string::npos);
  CHECK(dsdt.find("Name (_S5, Package") != std::string::npos);
}

TEST_CASE("every table's checksum holds and every address lies in the region") {
  GuestPlatform p;
  p.vcpus = 4;
  p.tpm = TpmInterface::Tis;
  Built b = build(p);
  for (uint64_t t : {b.layout.xsdt, b.layout.rsdt, b.layout.fadt, b.layout.dsdt, b.layout.madt, b.layout.tpm2}) {
    std::vector<uint8_t> bytes = table_bytes(b, t);
    uint8_t sum = 0;
    for (uint8_t x : bytes) sum = static_cast<uint8_t>(sum + x);
    CHECK(sum == 0);
    CHECK(t + bytes.size() <= kBase + b.layout.bytes);
  }
  CHECK(b.layout.facs % 64 == 0);
  CHECK(b.layout.rsdp_gpa % 16 == 0);
  CHECK(b.layout.bytes <= devices::acpi::kTablesMaxBytes);
}

TEST_CASE("bad parameters are refused, never written past the buffer") {
  GuestPlatform p;
  TableLayout l;
  std::vector<uint8_t> small(256, 0xAA);
  CHECK(devices::acpi::build_tables(p, kBase, small.data(), small.size(), l) == BuildError::BufferTooSmall);
  std::vector<uint8_t> mem(devices::acpi::kTablesMaxBytes);
  p.vcpus = 0;
  CHECK(devices::acpi::build_tables(p, kBase, mem.data(), mem.size(), l) == BuildError::BadVcpuCount);
  p.vcpus = devices::acpi::kMaxVcpus + 1;
  CHECK(devices::acpi::build_tables(p, kBase, mem.data(), mem.size(), l) == BuildError::BadVcpuCount);
  p.vcpus = 1;
  CHECK(devices::acpi::build_tables(p, kBase + 8, mem.data(), mem.size(), l) == BuildError::BadBase);
  CHECK(devices::acpi::build_tables(p, 0xFFFFF000ull, mem.data(), mem.size(), l) == BuildError::BadBase);
  CHECK(std::string(devices::acpi::describe(BuildError::BadBase)).find("aligned") != std::string::npos);
}
