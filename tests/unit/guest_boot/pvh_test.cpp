// PVH: the XEN_ELFNOTE_PHYS32_ENTRY note, hvm_start_info version 1 and the
// entry state (xen/include/public/arch-x86/hvm/start_info.h).
#include <catch.hpp>
#include <cstring>

#include "images.hpp"
#include "vmm/core/elf64.hpp"
#include "vmm/guest_boot/pvh.hpp"

using namespace mamori::vmm::guest_boot;
namespace core = mamori::core;
using mamori::test::PvhElf;

namespace {
// vmlinux's e_entry is physical (startup_64 at 0x1000000), as a loader that copies to p_paddr sees it.
core::ElfPolicy physical() {
  core::ElfPolicy p;
  p.entry_space = core::ElfEntrySpace::Physical;
  return p;
}
uint32_t rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t rd64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
PvhError find(const PvhElf& e, uint32_t& entry) {
  auto img = e.build();
  core::ElfImage elf;
  REQUIRE(core::elf64_validate(img.data(), img.size(), physical(), elf) == core::ElfError::None);
  return pvh_find_entry(img.data(), img.size(), elf, entry);
}
}  // namespace

TEST_CASE("the PVH note is found among other notes, 8- or 4-byte descriptor") {
  uint32_t entry = 0;
  CHECK(find(PvhElf{}, entry) == PvhError::None);
  CHECK(entry == 0x1000850);
  PvhElf e;
  e.desc_size = 4;
  CHECK(find(e, entry) == PvhError::None);
  CHECK(entry == 0x1000850);
}

TEST_CASE("no note, wrong name or type, bad descriptor, entry outside the text") {
  uint32_t entry = 0;
  PvhElf e;
  e.with_note = false;
  CHECK(find(e, entry) == PvhError::NoNote);
  e = PvhElf{};
  e.note_name = "Xem";
  CHECK(find(e, entry) == PvhError::NoNote);
  e = PvhElf{};
  e.note_type = 17;
  CHECK(find(e, entry) == PvhError::NoNote);
  e = PvhElf{};
  e.desc_high = 1;  // a 64-bit entry address cannot be entered in 32-bit mode
  CHECK(find(e, entry) == PvhError::BadDescriptor);
  e = PvhElf{};
  e.desc_size = 2;
  CHECK(find(e, entry) == PvhError::BadDescriptor);
  e = PvhElf{};
  e.entry = 0x1001100;  // in the data segment (not executable)
  CHECK(find(e, entry) == PvhError::EntryNotInImage);
}

TEST_CASE("a note whose sizes run past its segment is refused, not read") {
  auto img = PvhElf{}.build();
  core::ElfImage elf;
  REQUIRE(core::elf64_validate(img.data(), img.size(), physical(), elf) == core::ElfError::None);
  img[0x2800 + 4] = 0xF0;  // first note's descsz
  uint32_t entry;
  CHECK(pvh_find_entry(img.data(), img.size(), elf, entry) == PvhError::BadNote);
}

TEST_CASE("hvm_start_info: magic, version 1, command line, initrd module, memory map, RSDP") {
  PlanRequest r{};
  r.ram_bytes = 6ull << 30;
  r.kernel_base = 0x1000000;
  r.kernel_span = 0x3e00000;
  r.cmdline_len = 40;
  r.module_count = 1;
  r.modules[0] = {1234567, 0};
  Plan p;
  REQUIRE(plan(r, p) == PlanError::None);
  uint8_t info[kHvmStartInfoSize];
  uint8_t tables[kBootTablesSize] = {};
  size_t used = pvh_write_start_info(PvhInputs{40, 1234567, 0xE0000}, p, info, tables);
  CHECK(used == 32 + 24 * p.map_count);
  CHECK(rd32(info) == 0x336ec578);
  CHECK(rd32(info + 4) == 1);
  CHECK(rd32(info + 12) == 1);               // nr_modules
  CHECK(rd64(info + 16) == kBootTablesGpa);  // modlist_paddr
  CHECK(rd64(info + 24) == kCmdlineGpa);
  CHECK(rd64(info + 32) == 0xE0000);
  CHECK(rd64(info + 40) == kBootTablesGpa + 32);
  CHECK(rd32(info + 48) == p.map_count);
  CHECK(rd32(info + 52) == 0);
  CHECK(rd64(tables) == p.module_gpa[0]);
  CHECK(rd64(tables + 8) == 1234567);
  CHECK(rd64(tables + 16) == 0);
  const uint8_t* last = tables + 32 + 24 * (p.map_count - 1);
  CHECK(rd64(last) == k4G);
  CHECK(rd64(last + 8) == (3ull << 30));
  CHECK(rd32(last + 16) == 1);  // XEN_HVM_MEMMAP_TYPE_RAM
  // without initrd and command line: no modules, cmdline_paddr 0
  used = pvh_write_start_info(PvhInputs{0, 0, 0}, p, info, tables);
  CHECK(used == 24 * p.map_count);
  CHECK(rd32(info + 12) == 0);
  CHECK(rd64(info + 16) == 0);
  CHECK(rd64(info + 24) == 0);
  CHECK(rd64(info + 40) == kBootTablesGpa);
}

TEST_CASE("PVH entry: EBX = start_info, flat 32-bit, TR a 0x67-byte TSS at 0, CR4 and IF clear") {
  EntryState s = pvh_entry_state(0x1000850, kBootInfoGpa, kGdtGpa);
  CHECK(s.eip == 0x1000850);
  CHECK(s.ebx == kBootInfoGpa);
  CHECK(s.cr0 == 0x11);
  CHECK(s.cr4 == 0);
  CHECK(s.cr3 == 0);
  CHECK(s.efer == 0);
  CHECK(s.eflags == 2);
  CHECK(s.tr.base == 0);
  CHECK(s.tr.limit == 0x67);
  CHECK((s.tr.access_rights & 0xF) == 0xB);
  CHECK(s.cs.limit == 0xFFFFFFFF);
  CHECK(s.ss.access_rights == 0xC093);
}
