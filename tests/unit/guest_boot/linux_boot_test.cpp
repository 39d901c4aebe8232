// Linux x86 boot protocol: setup header parsing and refusals, the zero
// page, the 32-bit entry state (Documentation/arch/x86/boot.rst).
#include <catch.hpp>
#include <cstring>
#include <string>

#include "images.hpp"
#include "vmm/guest_boot/linux_boot.hpp"

using namespace mamori::vmm::guest_boot;
using mamori::test::BzImage;

namespace {
uint32_t rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t rd64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
LinuxError parse(const BzImage& b) {
  auto img = b.build();
  LinuxKernel k;
  return linux_parse(img.data(), img.size(), k);
}
}  // namespace

TEST_CASE("a protocol 2.15 relocatable bzImage: fields and placement") {
  auto img = BzImage{}.build();
  LinuxKernel k;
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  CHECK(k.version == 0x20F);
  CHECK(k.kernel_offset == 28 * 512);
  CHECK(k.kernel_size == 0x4000);
  CHECK(k.relocatable);
  CHECK(k.load_address == 0x1000000);  // pref_address
  CHECK(k.span == 0x3000000);          // init_size
  CHECK(k.cmdline_size == 0x7FF);
  CHECK(k.initrd_addr_max == 0x7FFFFFFF);
  CHECK(k.xloadflags == 0x7F);
  CHECK(k.header_end == 0x26C);
}

TEST_CASE("placement: non-relocatable at code32_start; relocatable aligned up; setup_sects 0 means 4") {
  BzImage b;
  b.relocatable = 0;
  auto img = b.build();
  LinuxKernel k;
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  CHECK(k.load_address == 0x100000);
  b = BzImage{};
  b.pref_address = 0x1234567;
  img = b.build();
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  CHECK(k.load_address == 0x1400000);
  b = BzImage{};
  b.pref_address = 0x100000000ull;  // cannot be entered in 32-bit mode: code32_start aligned
  img = b.build();
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  CHECK(k.load_address == 0x200000);
  b = BzImage{};
  b.setup_sects = 0;
  img = b.build();
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  CHECK(k.kernel_offset == 5 * 512);
  b = BzImage{};
  b.version = 0x206;  // no pref_address/init_size before 2.10
  img = b.build();
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  CHECK(k.init_size == 0);
  CHECK(k.load_address == 0x200000);
  CHECK(k.span == 4 * k.kernel_size);
}

TEST_CASE("refusals say what was found") {
  BzImage b;
  b.version = 0x205;
  CHECK(parse(b) == LinuxError::ProtocolTooOld);
  b = BzImage{};
  b.loadflags = 0;
  CHECK(parse(b) == LinuxError::NotBzImage);
  b = BzImage{};
  b.kernel_alignment = 0x3000;
  CHECK(parse(b) == LinuxError::BadAlignment);
  b = BzImage{};
  b.jump_len = 0xF0;  // header beyond its room in boot_params
  CHECK(parse(b) == LinuxError::BadHeaderEnd);
  auto img = BzImage{}.build();
  LinuxKernel k;
  CHECK(linux_parse(img.data(), 0x300, k) == LinuxError::SetupOutsideFile);
  CHECK(linux_parse(img.data(), 28 * 512, k) == LinuxError::NoProtectedModeKernel);
  CHECK(linux_parse(img.data(), 28 * 512 + 16, k) == LinuxError::SyssizeMismatch);
  CHECK(linux_parse(img.data(), 0x100, k) == LinuxError::TooSmall);
  CHECK(linux_parse(nullptr, 0, k) == LinuxError::NullBuffer);
  img[0x1FE] = 0;
  CHECK(linux_parse(img.data(), img.size(), k) == LinuxError::NoBootFlag);
  img = BzImage{}.build();
  img[0x203] = 'x';
  CHECK(linux_parse(img.data(), img.size(), k) == LinuxError::NoHdrS);
  CHECK(std::string(describe(LinuxError::ProtocolTooOld)).find("2.06") != std::string::npos);
}

TEST_CASE("boot_params: header copy, loader fields, initrd, command line, RSDP, e820") {
  auto img = BzImage{}.build();
  LinuxKernel k;
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  LinuxBootInputs in{300, 5000000, 0xE0000, 1ull << 30};
  PlanRequest req = linux_plan_request(k, in);
  CHECK(req.kernel_base == 0x1000000);
  CHECK(req.kernel_span == 0x3000000);
  CHECK(req.cmdline_max == 0x7FF);
  CHECK(req.module_count == 1);
  CHECK(req.modules_above_4g);  // XLF_CAN_BE_LOADED_ABOVE_4G
  Plan p;
  REQUIRE(plan(req, p) == PlanError::None);
  uint8_t bp[kBootParamsSize];
  std::memset(bp, 0xCC, sizeof bp);
  linux_write_boot_params(img.data(), k, in, p, bp);
  // The header up to 0x26C as in the file, but for the fields a loader writes.
  for (size_t o = 0x1F1; o < 0x26C; ++o) {
    bool loader_field = o == 0x210 || o == 0x211 || (o >= 0x214 && o < 0x220) || (o >= 0x224 && o < 0x22C);
    if (!loader_field) CHECK(bp[o] == img[o]);
  }
  CHECK(bp[0x210] == 0xFF);                 // type_of_loader
  CHECK(bp[0x211] == 0x01);                 // LOADED_HIGH, no CAN_USE_HEAP
  CHECK(rd32(bp + 0x214) == 0x1000000);     // code32_start = where it was loaded
  CHECK(rd32(bp + 0x228) == kCmdlineGpa);   // cmd_line_ptr
  CHECK(rd32(bp + 0xC8) == 0);              // ext_cmd_line_ptr
  CHECK(rd32(bp + 0x218) == p.module_gpa[0]);
  CHECK(rd32(bp + 0x21C) == 5000000);
  CHECK(rd32(bp + 0xC0) == 0);
  CHECK(rd64(bp + 0x70) == 0xE0000);        // acpi_rsdp_addr
  CHECK(bp[0x1EF] == 0);                    // sentinel
  CHECK(bp[0x1E8] == p.map_count);
  for (size_t i = 0; i < p.map_count; ++i) {
    CHECK(rd64(bp + 0x2D0 + 20 * i) == p.map[i].base);
    CHECK(rd64(bp + 0x2D0 + 20 * i + 8) == p.map[i].size);
    CHECK(rd32(bp + 0x2D0 + 20 * i + 16) == static_cast<uint32_t>(p.map[i].type));
  }
  CHECK(bp[0x2D0 + 20 * p.map_count] == 0);  // the rest zero
  CHECK(bp[0] == 0);                         // screen_info etc. zero
  CHECK(bp[4095] == 0);
}

TEST_CASE("an initrd above 4 GiB fills the ext_ fields; before 2.14 no acpi_rsdp_addr") {
  BzImage b;
  b.version = 0x20D;
  auto img = b.build();
  LinuxKernel k;
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  LinuxBootInputs in{10, 0x1'0000'0123ull, 0xE0000, 8ull << 30};
  Plan p;
  REQUIRE(plan(linux_plan_request(k, in), p) == PlanError::None);
  REQUIRE(p.module_gpa[0] >= k4G);
  uint8_t bp[kBootParamsSize];
  linux_write_boot_params(img.data(), k, in, p, bp);
  CHECK((static_cast<uint64_t>(rd32(bp + 0xC0)) << 32 | rd32(bp + 0x218)) == p.module_gpa[0]);
  CHECK((static_cast<uint64_t>(rd32(bp + 0xC4)) << 32 | rd32(bp + 0x21C)) == 0x1'0000'0123ull);
  CHECK(rd64(bp + 0x70) == 0);
}

TEST_CASE("32-bit entry: ESI = boot_params, EBX = EBP = EDI = 0, flat 0x10/0x18, paging and IF off") {
  auto img = BzImage{}.build();
  LinuxKernel k;
  REQUIRE(linux_parse(img.data(), img.size(), k) == LinuxError::None);
  EntryState s = linux_entry_state(k, kBootInfoGpa, kGdtGpa);
  CHECK(s.eip == 0x1000000);
  CHECK(s.esi == kBootInfoGpa);
  CHECK((s.ebx | s.ebp | s.edi) == 0);
  CHECK(s.cs.selector == 0x10);
  CHECK(s.ds.selector == 0x18);
  CHECK(s.ss.selector == 0x18);
  CHECK(s.es.selector == 0x18);
  CHECK(s.cs.base == 0);
  CHECK(s.cs.limit == 0xFFFFFFFF);
  CHECK(s.cs.access_rights == 0xC09B);
  CHECK(s.ds.access_rights == 0xC093);
  CHECK((s.cr0 & 0x80000001u) == 1);  // PE, no PG
  CHECK((s.eflags & 0x200) == 0);     // IF clear
  CHECK(s.gdt_base == kGdtGpa);
  uint8_t gdt[kGdtEntries * 8];
  write_boot_gdt(gdt);
  CHECK(rd64(gdt + 0x10) == 0x00CF9B000000FFFFull);  // the descriptor Linux's own boot GDT uses
  CHECK(rd64(gdt + 0x18) == 0x00CF93000000FFFFull);
  CHECK(rd64(gdt + 0x20) == 0x00008B0000000067ull);
  CHECK(rd64(gdt) == 0);
}
