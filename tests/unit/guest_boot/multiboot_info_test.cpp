// Multiboot 0.6.96 §3.3 information with modules; ELF32 Multiboot kernels.
#include <catch.hpp>
#include <cstring>

#include "images.hpp"
#include "vmm/guest_boot/elf32.hpp"
#include "vmm/guest_boot/multiboot_info.hpp"

using namespace mamori::vmm::guest_boot;
namespace core = mamori::core;

namespace {
uint32_t rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t rd64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
}  // namespace

TEST_CASE("Multiboot info: mem, cmdline, modules with their strings, mmap") {
  PlanRequest r{};
  r.ram_bytes = 128ull << 20;
  r.kernel_base = 0x100000;
  r.kernel_span = 0x4000;
  r.cmdline_len = 5;
  r.module_count = 2;
  r.modules[0] = {1000, 7};
  r.modules[1] = {0x30000, 0};
  Plan p;
  REQUIRE(plan(r, p) == PlanError::None);
  MultibootInputs in{};
  in.module_count = 2;
  in.module_sizes[0] = 1000;
  in.module_sizes[1] = 0x30000;
  in.have_cmdline = true;
  uint8_t info[kMbiSize];
  uint8_t tables[kBootTablesSize] = {};
  size_t used = multiboot_write_info(in, p, info, tables);
  CHECK(used == 2 * 16 + 24 * p.map_count);
  CHECK(rd32(info) == (kMbiMem | kMbiCmdline | kMbiMods | kMbiMmap));
  CHECK(rd32(info + 4) == 639);
  CHECK(rd32(info + 8) == (128u << 10) - 1024);
  CHECK(rd32(info + 16) == kCmdlineGpa);
  CHECK(rd32(info + 20) == 2);
  CHECK(rd32(info + 24) == kBootTablesGpa);
  CHECK(rd32(tables) == p.module_gpa[0]);
  CHECK(rd32(tables + 4) == p.module_gpa[0] + 1000);  // mod_end
  CHECK(rd32(tables + 8) == kModuleCmdlineGpa);
  CHECK(rd32(tables + 16) == p.module_gpa[1]);
  CHECK(rd32(tables + 24) == 0);  // no string
  CHECK(p.module_gpa[0] % 4096 == 0);  // page-aligned (flag 0 asks for it; we always do)
  CHECK(rd32(info + 44) == 24 * p.map_count);
  CHECK(rd32(info + 48) == kBootTablesGpa + 32);
  const uint8_t* e = tables + 32;
  CHECK(rd32(e) == 20);
  CHECK(rd64(e + 4) == 0);
  CHECK(rd64(e + 12) == kLowRamEnd);
  CHECK(rd32(e + 20) == 1);
  EntryState s = multiboot_entry_state(0x100010, kBootInfoGpa, kGdtGpa);
  CHECK(s.eax == 0x2BADB002);
  CHECK(s.ebx == kBootInfoGpa);
  CHECK(s.eip == 0x100010);
}

TEST_CASE("Multiboot info without modules or command line") {
  PlanRequest r{};
  r.ram_bytes = 8ull << 30;
  r.kernel_base = 0x100000;
  r.kernel_span = 0x4000;
  Plan p;
  REQUIRE(plan(r, p) == PlanError::None);
  uint8_t info[kMbiSize];
  uint8_t tables[kBootTablesSize] = {};
  multiboot_write_info(MultibootInputs{}, p, info, tables);
  CHECK(rd32(info) == (kMbiMem | kMbiMmap));
  CHECK(rd32(info + 8) == (3u << 20) - 1024);  // mem_upper: to the hole only
  CHECK(rd32(info + 48) == kBootTablesGpa);
}

TEST_CASE("ELF32: a Multiboot kernel's load plan; refusals") {
  auto img = mamori::test::multiboot_elf32();
  core::ElfImage e;
  REQUIRE(elf32_validate(img.data(), img.size(), kHighRamStart, 1ull << 30, e) == Elf32Error::None);
  CHECK(e.segment_count == 2);
  CHECK(e.entry == 0x100010);
  CHECK(e.paddr_low == 0x100000);
  CHECK(e.paddr_high == 0x104000);
  CHECK(e.segments[1].filesz == 0x800);
  CHECK(e.segments[1].memsz == 0x3000);
  CHECK(elf32_validate(img.data(), img.size(), 0x200000, 1ull << 30, e) == Elf32Error::OutsidePhysicalRange);
  auto bad = mamori::test::multiboot_elf32(0x101010);
  CHECK(elf32_validate(bad.data(), bad.size(), 0, k4G, e) == Elf32Error::EntryNotExecutable);
  bad = mamori::test::multiboot_elf32(0x100010, 40);
  CHECK(elf32_validate(bad.data(), bad.size(), 0, k4G, e) == Elf32Error::NotI386);
  bad = img;
  bad[52 + 32 + 12] = 0x00;  // data paddr 0x100000: overlaps text
  bad[52 + 32 + 13] = 0x00;
  CHECK(elf32_validate(bad.data(), bad.size(), 0, k4G, e) == Elf32Error::PhysicalOverlap);
  bad = img;
  bad[52 + 16 + 1] = 0x20;  // text filesz 0x2000 > memsz
  CHECK(elf32_validate(bad.data(), bad.size(), 0, k4G, e) == Elf32Error::FileszExceedsMemsz);
  bad = img;
  bad[52 + 4 + 1] = 0x30;  // text offset 0x3000: beyond the file
  CHECK(elf32_validate(bad.data(), bad.size(), 0, k4G, e) == Elf32Error::SegmentOutOfFile);
  bad = img;
  bad[52 + 12 + 3] = 0xFF;  // text paddr 0xFF100000 + 0x800: fine; memsz huge:
  bad[52 + 20 + 3] = 0x10;
  CHECK(elf32_validate(bad.data(), bad.size(), 0, k4G, e) == Elf32Error::AddressOverflow);
  CHECK(elf32_validate(img.data(), 40, 0, k4G, e) == Elf32Error::TooSmall);
  CHECK(elf32_validate(img.data(), 100, 0, k4G, e) == Elf32Error::PhdrTableOutOfFile);
}
