// ACPI discovery (RSDP/XSDT/RSDT), MADT and TPM2 decoding on synthetic tables,
// plus every capture under tests/unit/core/data/acpi/.
#include <catch.hpp>

#include <algorithm>
#include <string>

#include "acpi_image.hpp"
#include "vmm/core/acpi.hpp"
#include "vmm/core/madt.hpp"
#include "vmm/core/tpm2_table.hpp"

using namespace mamori::core;
using namespace mamori::test;

namespace {

constexpr uint64_t kRsdp = 0x7fb7e014, kXsdt = 0x7fb7d0e8, kRsdt = 0x7fb7c000,
                   kFacp = 0x7fb79000, kApic = 0x7fb78000, kTpm2 = 0x7fb77000,
                   kHpet = 0x7fb76000;

// A QEMU q35 + OVMF–like layout: 2 CPUs, one I/O APIC, IRQ0→GSI2, CRB TPM.
PhysImage platform() {
  PhysImage img;
  img.rsdp = kRsdp;
  img.add(kRsdp, make_rsdp(2, kRsdt, kXsdt));
  img.add(kXsdt, make_root(true, {kFacp, kApic, kHpet, kTpm2}));
  img.add(kRsdt, make_root(false, {kFacp, kApic, kHpet, kTpm2}));
  img.add(kFacp, make_table("FACP", Bytes(244 - 36, 0), 6));
  img.add(kApic, make_madt(0xfee00000, 1,
                           {madt_lapic(0, 0, 1), madt_lapic(1, 1, 1), madt_ioapic(0, 0xfec00000, 0),
                            madt_override(0, 2, 0), madt_override(9, 9, 0xd),
                            madt_nmi(0xff, 0, 1)}));
  img.add(kHpet, make_table("HPET", Bytes(20, 0)));
  img.add(kTpm2, make_tpm2(7, 0xfed40040, true, true));
  return img;
}

AcpiRoot root_of(PhysImage& img) {
  AcpiRoot root;
  REQUIRE(acpi_parse_rsdp(img.reader(), img.rsdp, root) == AcpiError::None);
  return root;
}

}  // namespace

TEST_CASE("RSDP v2 → XSDT, tables by signature", "[acpi]") {
  PhysImage img = platform();
  AcpiRoot root = root_of(img);
  CHECK(root.revision == 2);
  CHECK(std::string(root.oem_id) == "MAMORI");
  CHECK(root.using_xsdt);
  CHECK(root.root_phys == kXsdt);
  CHECK(root.entry_size == 8);
  CHECK(root.entry_count == 4);
  CHECK(root.xsdt_error == AcpiError::None);

  AcpiTableRef ref;
  REQUIRE(acpi_find_table(img.reader(), root, "APIC", 0, ref) == AcpiError::None);
  CHECK(ref.phys == kApic);
  CHECK(std::string(ref.signature) == "APIC");
  CHECK(std::string(ref.oem_table_id) == "TESTTBL ");
  CHECK(acpi_find_table(img.reader(), root, "APIC", 1, ref) == AcpiError::TableNotFound);
  CHECK(acpi_find_table(img.reader(), root, "SSDT", 0, ref) == AcpiError::TableNotFound);

  // Listing for the shell.
  std::string sigs;
  for (uint32_t i = 0; i < root.entry_count; ++i) {
    REQUIRE(acpi_table_at(img.reader(), root, i, ref) == AcpiError::None);
    sigs += ref.signature;
  }
  CHECK(sigs == "FACPAPICHPETTPM2");
  CHECK(acpi_table_at(img.reader(), root, 4, ref) == AcpiError::TableNotFound);
}

TEST_CASE("RSDP v1 (ACPI 1.0) uses the RSDT", "[acpi]") {
  PhysImage img = platform();
  img.add(kRsdp, make_rsdp(0, kRsdt, 0));
  AcpiRoot root = root_of(img);
  CHECK(root.revision == 0);
  CHECK_FALSE(root.using_xsdt);
  CHECK(root.entry_size == 4);
  CHECK(root.entry_count == 4);
  AcpiTableRef ref;
  REQUIRE(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::None);
  CHECK(ref.phys == kTpm2);
}

TEST_CASE("RSDP refusals", "[acpi]") {
  PhysImage img = platform();
  AcpiRoot root;
  CHECK(acpi_parse_rsdp(img.reader(), 0, root) == AcpiError::NoRsdp);
  CHECK(acpi_parse_rsdp(img.reader(), 0x1000, root) == AcpiError::ReadFailed);

  Bytes r = make_rsdp(2, kRsdt, kXsdt);
  r[0] = 'X';
  img.add(kRsdp, r);
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::RsdpBadSignature);

  r = make_rsdp(2, kRsdt, kXsdt);
  r[8] ^= 1;  // v1 checksum
  img.add(kRsdp, r);
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::RsdpBadChecksum);

  r = make_rsdp(2, kRsdt, kXsdt);
  r[32] ^= 1;  // extended checksum
  img.add(kRsdp, r);
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::RsdpBadExtendedChecksum);

  r = make_rsdp(2, kRsdt, kXsdt);
  r[25] ^= 0x10;  // XSDT address changed after the extended checksum was computed
  img.add(kRsdp, r);
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::RsdpBadExtendedChecksum);

  for (uint32_t bad_len : {0u, 35u, 0x100000u}) {
    r = make_rsdp(2, kRsdt, kXsdt);
    put(r, 20, bad_len, 4);
    fix_checksum(r, 32, 36);
    img.add(kRsdp, r);
    CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::RsdpBadLength);
  }
  // Length claims 64 bytes but only 36 are there.
  r = make_rsdp(2, kRsdt, kXsdt);
  put(r, 20, 64, 4);
  fix_checksum(r, 32, 36);
  img.add(kRsdp, r);
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::ReadFailed);

  // Revision 2 RSDP cut off after 20 bytes.
  r = make_rsdp(2, kRsdt, kXsdt);
  r.resize(20);
  img.add(kRsdp, r);
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::ReadFailed);

  img.add(kRsdp, make_rsdp(2, 0, 0));
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, root) == AcpiError::NoRootTable);
}

TEST_CASE("legacy RSDP search: EBDA first, then the BIOS area", "[acpi]") {
  PhysImage img;
  uint64_t found = 1;
  CHECK(acpi_find_rsdp_legacy(img.reader(), &found) == AcpiError::NoRsdp);
  CHECK(found == 0);
  Bytes rom(0x20000, 0);
  Bytes bad = make_rsdp(2, kRsdt, kXsdt);
  bad[8] ^= 1;  // a stale copy with a wrong checksum comes first: skipped
  std::copy(bad.begin(), bad.end(), rom.begin() + 0x15a00);
  Bytes good = make_rsdp(2, kRsdt, kXsdt);
  std::copy(good.begin(), good.end(), rom.begin() + 0x15a20);
  Bytes unaligned = make_rsdp(0, kRsdt, 0);
  std::copy(unaligned.begin(), unaligned.end(), rom.begin() + 0x100 + 4);  // not 16-aligned: never seen
  img.add(0xe0000, rom);
  REQUIRE(acpi_find_rsdp_legacy(img.reader(), &found) == AcpiError::None);
  CHECK(found == 0xf5a20);

  // An RSDP in the first KiB of the EBDA wins; the BDA holds its segment.
  Bytes bda(0x100, 0);
  put(bda, 0x0e, 0x9fc0, 2);
  img.add(0x400, bda);
  Bytes ebda(0x400, 0);
  Bytes v1 = make_rsdp(0, kRsdt, 0);
  std::copy(v1.begin(), v1.end(), ebda.begin() + 0x30);
  img.add(0x9fc00, ebda);
  REQUIRE(acpi_find_rsdp_legacy(img.reader(), &found) == AcpiError::None);
  CHECK(found == 0x9fc30);
}

TEST_CASE("broken XSDT falls back to the RSDT and says why", "[acpi]") {
  PhysImage img = platform();
  Bytes x = make_root(true, {kFacp, kApic});
  x[9] ^= 0xff;
  img.add(kXsdt, x);
  AcpiRoot root = root_of(img);
  CHECK_FALSE(root.using_xsdt);
  CHECK(root.root_phys == kRsdt);
  CHECK(root.xsdt_error == AcpiError::TableBadChecksum);

  // No RSDT to fall back to: the XSDT's error.
  img.add(kRsdp, make_rsdp(2, 0, kXsdt));
  AcpiRoot r2;
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, r2) == AcpiError::TableBadChecksum);

  // Wrong signature at the XSDT address, and a length that is not whole entries.
  img.add(kXsdt, make_table("FACP", Bytes(16, 0)));
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, r2) == AcpiError::RootBadSignature);
  img.add(kXsdt, make_table("XSDT", Bytes(12, 0)));
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, r2) == AcpiError::RootBadLength);
  // XSDT address pointing nowhere.
  img.add(kRsdp, make_rsdp(2, 0, 0x123456789000ull));
  CHECK(acpi_parse_rsdp(img.reader(), kRsdp, r2) == AcpiError::ReadFailed);
}

TEST_CASE("table length and checksum validation", "[acpi]") {
  PhysImage img = platform();
  AcpiRoot root = root_of(img);
  AcpiTableRef ref;

  Bytes t = make_tpm2(7, 0xfed40040, true, true);
  t[20] ^= 1;  // checksum broken
  img.add(kTpm2, t);
  CHECK(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::TableBadChecksum);

  t = make_tpm2(7, 0xfed40040, true, true);
  put(t, 4, t.size() + 100, 4);  // length lies: beyond the readable blob
  img.add(kTpm2, t);
  CHECK(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::ReadFailed);

  put(t, 4, 20, 4);  // shorter than a header
  img.add(kTpm2, t);
  CHECK(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::TableTooShort);

  put(t, 4, 0xffffffff, 4);  // absurd
  img.add(kTpm2, t);
  CHECK(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::TableTooLong);

  // Truncated table: only 30 bytes of it captured/readable.
  t = make_tpm2(7, 0xfed40040, true, true);
  t.resize(30);
  img.add(kTpm2, t);
  CHECK(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::ReadFailed);
}

TEST_CASE("table address + length wrapping is refused", "[acpi]") {
  PhysImage img = platform();
  const uint64_t top = 0xffffffffffffffc0ull;
  Bytes t = make_table("OEM1", Bytes(16, 0));
  put(t, 4, 0x1000, 4);
  img.add(top, t);
  img.add(kXsdt, make_root(true, {top}));
  AcpiRoot root = root_of(img);
  AcpiTableRef ref;
  CHECK(acpi_find_table(img.reader(), root, "OEM1", 0, ref) == AcpiError::TableAddressOverflow);
}

TEST_CASE("unreadable and null root entries are skipped when searching", "[acpi]") {
  PhysImage img = platform();
  img.add(kXsdt, make_root(true, {0, 0xdead0000, kApic}));
  AcpiRoot root = root_of(img);
  AcpiTableRef ref;
  CHECK(acpi_find_table(img.reader(), root, "APIC", 0, ref) == AcpiError::None);
  CHECK(acpi_table_at(img.reader(), root, 0, ref) == AcpiError::ReadFailed);
  CHECK(acpi_table_at(img.reader(), root, 1, ref) == AcpiError::ReadFailed);
}

TEST_CASE("acpi_read_table copies and re-checks", "[acpi]") {
  PhysImage img = platform();
  AcpiRoot root = root_of(img);
  AcpiTableRef ref;
  REQUIRE(acpi_find_table(img.reader(), root, "APIC", 0, ref) == AcpiError::None);
  uint8_t small[40];
  CHECK(acpi_read_table(img.reader(), ref, small, sizeof small) == AcpiError::BufferTooSmall);
  CHECK(acpi_read_table(img.reader(), ref, nullptr, 4096) == AcpiError::BufferTooSmall);
  uint8_t buf[4096];
  REQUIRE(acpi_read_table(img.reader(), ref, buf, sizeof buf) == AcpiError::None);
  // Firmware memory changed between find and read: the copy is checked again.
  img.blobs[kApic][50] ^= 0x40;
  CHECK(acpi_read_table(img.reader(), ref, buf, sizeof buf) == AcpiError::TableBadChecksum);
}

TEST_CASE("MADT: CPUs, I/O APIC, overrides, NMI, LAPIC address", "[acpi][madt]") {
  PhysImage img = platform();
  const Bytes& t = img.blobs[kApic];
  MadtInfo m;
  REQUIRE(madt_parse(t.data(), t.size(), m) == AcpiError::None);
  CHECK(m.lapic_address == 0xfee00000);
  CHECK_FALSE(m.lapic_address_overridden);
  CHECK(m.pcat_compat);
  REQUIRE(m.cpu_count == 2);
  CHECK(m.cpus[0].apic_id == 0);
  CHECK(m.cpus[1].apic_id == 1);
  CHECK(m.cpus[1].acpi_uid == 1);
  CHECK(m.cpus[1].enabled);
  CHECK_FALSE(m.cpus[1].x2apic);
  CHECK(m.usable_cpus() == 2);
  REQUIRE(m.ioapic_count == 1);
  CHECK(m.ioapics[0].address == 0xfec00000);
  CHECK(m.ioapics[0].gsi_base == 0);
  REQUIRE(m.override_count == 2);
  CHECK(m.overrides[0].source == 0);
  CHECK(m.overrides[0].gsi == 2);
  CHECK(m.overrides[1].source == 9);
  CHECK(m.overrides[1].flags == 0xd);
  REQUIRE(m.nmi_count == 1);
  CHECK(m.nmis[0].acpi_uid == kMadtAllProcessors32);
  CHECK(m.nmis[0].lint == 1);
  CHECK(m.unknown_entries == 0);
  CHECK(m.bad_offset == SIZE_MAX);
}

TEST_CASE("MADT: x2APIC entries, flags, duplicates, address override, unknown types", "[acpi][madt]") {
  Bytes gicc = {0x0b, 20};  // a GIC CPU interface entry (Arm): skipped by Length
  gicc.resize(20, 0);
  Bytes t = make_madt(0xfee00000, 0,
                      {madt_lapic(0, 0, 1),
                       madt_lapic(1, 1, 0),            // disabled, not online capable
                       madt_lapic(2, 2, 2),            // disabled, online capable (hot-plug)
                       madt_x2apic(0x100, 3, 1),       // APIC ID ≥ 255 needs x2APIC
                       madt_x2apic(0, 0, 1),           // same CPU as the first entry
                       gicc,
                       madt_lapic_override(0x0000000fee00000ull)});
  MadtInfo m;
  REQUIRE(madt_parse(t.data(), t.size(), m) == AcpiError::None);
  CHECK_FALSE(m.pcat_compat);
  REQUIRE(m.cpu_count == 4);
  CHECK_FALSE(m.cpus[1].enabled);
  CHECK_FALSE(m.cpus[1].online_capable);
  CHECK_FALSE(m.cpus[2].enabled);
  CHECK(m.cpus[2].online_capable);
  CHECK(m.cpus[3].apic_id == 0x100);
  CHECK(m.cpus[3].acpi_uid == 3);
  CHECK(m.cpus[3].x2apic);
  CHECK(m.usable_cpus() == 2);
  CHECK(m.cpu_duplicates == 1);
  CHECK(m.unknown_entries == 1);
  CHECK(m.lapic_address_overridden);
  CHECK(m.lapic_address == 0xfee00000ull);

  Bytes t2 = make_madt(0xfee00000, 0, {madt_lapic_override(0x1234500000ull), madt_lapic(0, 0, 1)});
  REQUIRE(madt_parse(t2.data(), t2.size(), m) == AcpiError::None);
  CHECK(m.lapic_address == 0x1234500000ull);  // override wins wherever it sits
}

TEST_CASE("MADT: more CPUs than capacity are counted, not stored", "[acpi][madt]") {
  std::vector<Bytes> entries;
  for (uint32_t i = 0; i < kMadtMaxCpus + 5; ++i) entries.push_back(madt_x2apic(i, i, 1));
  Bytes t = make_madt(0xfee00000, 0, entries);
  MadtInfo m;
  REQUIRE(madt_parse(t.data(), t.size(), m) == AcpiError::None);
  CHECK(m.cpu_count == kMadtMaxCpus);
  CHECK(m.cpus_dropped == 5);
  std::vector<Bytes> io;
  for (uint32_t i = 0; i < kMadtMaxIoApics + 2; ++i) io.push_back(madt_ioapic(i, 0xfec00000 + i * 0x1000, i * 24));
  t = make_madt(0xfee00000, 0, io);
  REQUIRE(madt_parse(t.data(), t.size(), m) == AcpiError::None);
  CHECK(m.ioapic_count == kMadtMaxIoApics);
  CHECK(m.dropped_entries == 2);
}

TEST_CASE("MADT: malformed entries are refused (no endless loop, no overread)", "[acpi][madt]") {
  MadtInfo m;
  SECTION("entry length 0") {
    Bytes t = make_madt(0xfee00000, 0, {madt_lapic(0, 0, 1), Bytes{0, 0, 0, 0, 0, 0, 0, 0}});
    CHECK(madt_parse(t.data(), t.size(), m) == AcpiError::MadtEntryBadLength);
    CHECK(m.bad_offset == 44 + 8);
  }
  SECTION("entry length 1") {
    Bytes t = make_madt(0xfee00000, 0, {Bytes{0, 1, 0, 0}});
    CHECK(madt_parse(t.data(), t.size(), m) == AcpiError::MadtEntryBadLength);
  }
  SECTION("entry overflowing the table") {
    Bytes e = madt_lapic(0, 0, 1);
    e[1] = 200;
    Bytes t = make_madt(0xfee00000, 0, {e});
    CHECK(madt_parse(t.data(), t.size(), m) == AcpiError::MadtEntryOverflows);
  }
  SECTION("entry header cut by the table end") {
    Bytes t = make_madt(0xfee00000, 0, {madt_lapic(0, 0, 1), Bytes{0}});
    CHECK(madt_parse(t.data(), t.size(), m) == AcpiError::MadtEntryTruncated);
    CHECK(m.bad_offset == 52);
  }
  SECTION("entry shorter than its type") {
    Bytes e = madt_x2apic(1, 1, 1);
    e[1] = 8;
    e.resize(8);
    Bytes t = make_madt(0xfee00000, 0, {e});
    CHECK(madt_parse(t.data(), t.size(), m) == AcpiError::MadtEntryTooShort);
  }
  SECTION("header problems") {
    Bytes t = make_madt(0xfee00000, 0, {madt_lapic(0, 0, 1)});
    CHECK(madt_parse(t.data(), 30, m) == AcpiError::TableTooShort);    // not even a header
    CHECK(madt_parse(t.data(), 40, m) == AcpiError::TableTooLong);     // Length > buffer
    CHECK(madt_parse(t.data(), t.size() - 1, m) == AcpiError::TableTooLong);  // Length > buffer
    CHECK(madt_parse(nullptr, 100, m) == AcpiError::TableTooShort);
    Bytes bad = t;
    bad[9] ^= 1;
    CHECK(madt_parse(bad.data(), bad.size(), m) == AcpiError::TableBadChecksum);
    Bytes other = make_table("FACP", Bytes(20, 0));
    CHECK(madt_parse(other.data(), other.size(), m) == AcpiError::TableBadSignature);
    Bytes tiny = make_table("APIC", Bytes(4, 0));  // Length 40 < 44
    CHECK(madt_parse(tiny.data(), tiny.size(), m) == AcpiError::TableTooShort);
  }
}

TEST_CASE("TPM2 table: CRB with log, TIS without", "[acpi][tpm2]") {
  Tpm2Info info;
  Bytes t = make_tpm2(7, 0xfed40040, true, true, 0x10000, 0x7fb00000);
  REQUIRE(t.size() == kTpm2LengthWithLog);
  REQUIRE(tpm2_parse(t.data(), t.size(), info) == AcpiError::None);
  CHECK(info.start_method == static_cast<uint32_t>(Tpm2StartMethod::Crb));
  CHECK(tpm2_start_method_is_crb(info.start_method));
  CHECK(info.control_area == 0xfed40040);
  CHECK(info.start_params_length == 12);
  CHECK(info.has_log);
  CHECK(info.log_min_length == 0x10000);
  CHECK(info.log_address == 0x7fb00000);
  CHECK(info.revision == 4);

  t = make_tpm2(6, 0, false, false);  // TIS, 52 bytes: no params, no log
  REQUIRE(t.size() == kTpm2MinLength);
  REQUIRE(tpm2_parse(t.data(), t.size(), info) == AcpiError::None);
  CHECK(info.start_method == 6);
  CHECK_FALSE(tpm2_start_method_is_crb(6));
  CHECK(info.start_params_length == 0);
  CHECK_FALSE(info.has_log);

  t = make_tpm2(6, 0, true, false);  // 64 bytes: params, no log
  REQUIRE(tpm2_parse(t.data(), t.size(), info) == AcpiError::None);
  CHECK(info.start_params_length == 12);
  CHECK_FALSE(info.has_log);

  t = make_tpm2(6, 0, true, true, 0, 0);  // log fields present but zero
  REQUIRE(tpm2_parse(t.data(), t.size(), info) == AcpiError::None);
  CHECK_FALSE(info.has_log);
}

TEST_CASE("TPM2 table refusals", "[acpi][tpm2]") {
  Tpm2Info info;
  Bytes t = make_tpm2(7, 0, true, true);
  CHECK(tpm2_parse(t.data(), t.size(), info) == AcpiError::Tpm2MissingControlArea);
  t = make_tpm2(6, 0, true, true, 0x100, 0xffffffffffffff80ull);
  CHECK(tpm2_parse(t.data(), t.size(), info) == AcpiError::Tpm2LogAreaOverflow);
  t = make_table("TPM2", Bytes(10, 0));  // 46 < 52
  CHECK(tpm2_parse(t.data(), t.size(), info) == AcpiError::TableTooShort);
  t = make_tpm2(7, 0xfed40040, true, true);
  t[30] ^= 1;
  CHECK(tpm2_parse(t.data(), t.size(), info) == AcpiError::TableBadChecksum);
  t = make_tpm2(7, 0xfed40040, true, true);
  CHECK(tpm2_parse(t.data(), t.size() - 4, info) == AcpiError::TableTooLong);
  std::memcpy(t.data(), "TCPA", 4);
  fix_checksum(t, 9, t.size());
  CHECK(tpm2_parse(t.data(), t.size(), info) == AcpiError::TableBadSignature);
}

TEST_CASE("TPM2 start method names", "[acpi][tpm2]") {
  CHECK(std::string(tpm2_start_method_name(6)).find("TIS") != std::string::npos);
  CHECK(std::string(tpm2_start_method_name(7)) == "CRB");
  CHECK(std::string(tpm2_start_method_name(8)) == "CRB with ACPI start");
  CHECK(std::string(tpm2_start_method_name(9)) == "reserved/unknown");
  CHECK(tpm2_start_method_is_crb(11));
  CHECK_FALSE(tpm2_start_method_is_crb(2));
}

TEST_CASE("CRB control area buffers", "[acpi][tpm2]") {
  // QEMU tpm-crb: buffers at 0xfed40080, 0xf80 bytes each (same buffer).
  Bytes regs(kCrbControlAreaLength, 0);
  put(regs, 0x18, 0xf80, 4);
  put(regs, 0x1c, 0xfed40080, 4);
  put(regs, 0x20, 0, 4);
  put(regs, 0x24, 0xf80, 4);
  put(regs, 0x28, 0xfed40080, 8);
  CrbBuffers b;
  REQUIRE(crb_decode_control_area(regs.data(), regs.size(), b) == AcpiError::None);
  CHECK(b.command_address == 0xfed40080);
  CHECK(b.command_size == 0xf80);
  CHECK(b.response_address == 0xfed40080);
  CHECK(b.response_size == 0xf80);
  CHECK(crb_decode_control_area(regs.data(), regs.size() - 1, b) == AcpiError::TableTooShort);
  Bytes bad = regs;
  put(bad, 0x18, 0, 4);
  CHECK(crb_decode_control_area(bad.data(), bad.size(), b) == AcpiError::CrbBadBuffer);
  bad = regs;
  put(bad, 0x28, 0xffffffffffffff00ull, 8);
  CHECK(crb_decode_control_area(bad.data(), bad.size(), b) == AcpiError::CrbBadBuffer);
  bad = regs;
  put(bad, 0x1c, 0, 4);
  CHECK(crb_decode_control_area(bad.data(), bad.size(), b) == AcpiError::CrbBadBuffer);
  put(bad, 0x20, 1, 4);  // high half only: 4 GiB
  CHECK(crb_decode_control_area(bad.data(), bad.size(), b) == AcpiError::None);
  CHECK(b.command_address == 0x100000000ull);
}

TEST_CASE("every ACPI error has a description", "[acpi]") {
  for (uint32_t i = 0; i <= static_cast<uint32_t>(AcpiError::CrbBadBuffer); ++i)
    CHECK(std::string(describe(static_cast<AcpiError>(i))) != "unknown ACPI error");
}

// Every directory in data/acpi/ is a capture (real or synthetic). Whatever
// platform it came from, the chain must parse; expect.txt pins details.
TEST_CASE("captured ACPI tables (tests/unit/core/data/acpi/*)", "[acpi][capture]") {
  namespace fs = std::filesystem;
  const fs::path base = fs::path(MAMORI_CORE_TEST_DATA) / "acpi";
  int captures = 0;
  for (auto& dir : fs::directory_iterator(base)) {
    if (!dir.is_directory()) continue;
    ++captures;
    std::map<std::string, std::string> expect;
    PhysImage img = load_capture(dir.path(), &expect);
    auto want = [&](const char* k) -> std::string { return expect.count(k) ? expect[k] : ""; };
    INFO("capture " << dir.path().filename().string());
    AcpiRoot root;
    REQUIRE(acpi_parse_rsdp(img.reader(), img.rsdp, root) == AcpiError::None);
    if (!want("root").empty()) CHECK(std::string(root.using_xsdt ? "XSDT" : "RSDT") == want("root"));

    AcpiTableRef ref;
    // Every captured table the root lists must pass the length and checksum checks.
    for (uint32_t i = 0; i < root.entry_count; ++i) {
      AcpiError e = acpi_table_at(img.reader(), root, i, ref);
      if (e == AcpiError::ReadFailed) continue;  // not captured
      INFO("root entry " << i << " " << ref.signature);
      CHECK(e == AcpiError::None);
    }
    if (want("madt") == "none") {
      // A platform without a MADT (OVMF under Bochs): the VMM must cope.
      CHECK(acpi_find_table(img.reader(), root, "APIC", 0, ref) == AcpiError::TableNotFound);
      CHECK(acpi_find_table(img.reader(), root, "TPM2", 0, ref) == AcpiError::TableNotFound);
      continue;
    }
    REQUIRE(acpi_find_table(img.reader(), root, "APIC", 0, ref) == AcpiError::None);
    std::vector<uint8_t> buf(ref.length);
    REQUIRE(acpi_read_table(img.reader(), ref, buf.data(), buf.size()) == AcpiError::None);
    static MadtInfo m;
    REQUIRE(madt_parse(buf.data(), buf.size(), m) == AcpiError::None);
    CHECK(m.usable_cpus() >= 1);
    if (!want("cpus").empty()) CHECK(m.usable_cpus() == std::stoul(want("cpus")));
    if (!want("ioapics").empty()) CHECK(m.ioapic_count == std::stoul(want("ioapics")));
    if (!want("lapic").empty()) CHECK(m.lapic_address == std::stoull(want("lapic"), nullptr, 0));

    AcpiError te = acpi_find_table(img.reader(), root, "TPM2", 0, ref);
    if (want("tpm2") == "none") {
      CHECK(te == AcpiError::TableNotFound);
    } else if (te == AcpiError::None) {
      buf.assign(ref.length, 0);
      REQUIRE(acpi_read_table(img.reader(), ref, buf.data(), buf.size()) == AcpiError::None);
      Tpm2Info t;
      REQUIRE(tpm2_parse(buf.data(), buf.size(), t) == AcpiError::None);
      if (!want("tpm2_start_method").empty())
        CHECK(t.start_method == std::stoul(want("tpm2_start_method")));
      if (!want("tpm2_control_area").empty())
        CHECK(t.control_area == std::stoull(want("tpm2_control_area"), nullptr, 0));
    } else {
      CHECK(want("tpm2").empty());  // expected a TPM2 table but found a broken one
      CHECK(te == AcpiError::TableNotFound);
    }
  }
  CHECK(captures >= 1);
}
