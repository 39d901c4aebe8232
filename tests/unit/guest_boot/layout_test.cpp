// The guest-physical layout planner: RAM split around the 3-4 GiB hole,
// reserved device windows, modules placed without overlap, limits.
#include <catch.hpp>
#include <string>

#include "vmm/guest_boot/layout.hpp"

using namespace mamori::vmm::guest_boot;

namespace {
PlanRequest linux_like(uint64_t ram) {
  PlanRequest r{};
  r.ram_bytes = ram;
  r.kernel_base = 0x1000000;
  r.kernel_span = 0x3378000;
  r.cmdline_len = 100;
  r.cmdline_max = 0x7FF;
  r.module_count = 1;
  r.modules[0] = {9269294, 0};
  r.module_max_end = 0x80000000;
  return r;
}

// Sorted, non-overlapping, and the ranges a guest must see.
void check_map(const Plan& p) {
  for (size_t i = 1; i < p.map_count; ++i) REQUIRE(p.map[i - 1].base + p.map[i - 1].size <= p.map[i].base);
  auto has = [&](uint64_t base, uint64_t size, RangeType t) {
    for (size_t i = 0; i < p.map_count; ++i)
      if (p.map[i].base == base && p.map[i].size == size && p.map[i].type == t) return true;
    return false;
  };
  CHECK(has(0, kLowRamEnd, RangeType::Ram));
  CHECK(has(kAcpiBase, kAcpiSize, RangeType::Reserved));
  CHECK(has(kIoApicBase, 0x1000, RangeType::Reserved));
  CHECK(has(0xFED40000, 0x5000, RangeType::Reserved));
  CHECK(has(kLapicBase, 0x1000, RangeType::Reserved));
  uint64_t ram = 0;
  for (size_t i = 0; i < p.map_count; ++i)
    if (p.map[i].type == RangeType::Ram) ram += p.map[i].size;
  CHECK(ram == p.low_ram + p.high_ram - (kHighRamStart - kLowRamEnd));
}
}  // namespace

TEST_CASE("512 MiB: all RAM below the hole, initrd at the top, clear of the kernel") {
  Plan p;
  REQUIRE(plan(linux_like(512ull << 20), p) == PlanError::None);
  CHECK(p.low_ram == 512ull << 20);
  CHECK(p.high_ram == 0);
  check_map(p);
  CHECK(p.module_gpa[0] % kPageSize == 0);
  CHECK(p.module_gpa[0] + 9269294 <= (512ull << 20));
  CHECK(p.module_gpa[0] >= 0x1000000 + 0x3378000);
  CHECK(p.module_gpa[0] == ((512ull << 20) - 9273344));  // 9269294 rounded up to pages, from the top
  CHECK(p.cmdline_gpa == kCmdlineGpa);
  CHECK(p.map[p.map_count - 1].base == kLapicBase);  // no RAM above 4 GiB
}

TEST_CASE("40 GiB: 3 GiB below the hole, 37 GiB from 4 GiB; initrd below initrd_addr_max") {
  Plan p;
  REQUIRE(plan(linux_like(40ull << 30), p) == PlanError::None);
  CHECK(p.low_ram == 3ull << 30);
  CHECK(p.high_ram == 37ull << 30);
  check_map(p);
  CHECK(p.map[p.map_count - 1].base == k4G);
  CHECK(p.map[p.map_count - 1].size == 37ull << 30);
  CHECK(p.module_gpa[0] + 9269294 <= 0x80000000);
}

TEST_CASE("modules above 4 GiB only when allowed, and only when there is no room below") {
  PlanRequest r = linux_like(8ull << 30);
  r.modules[0].size = 4ull << 30;  // larger than RAM below the hole
  Plan p;
  CHECK(plan(r, p) == PlanError::NoRoomForModule);
  r.modules_above_4g = true;
  r.module_max_end = 0;
  REQUIRE(plan(r, p) == PlanError::None);
  CHECK(p.module_gpa[0] >= k4G);
  CHECK(p.module_gpa[0] + r.modules[0].size <= k4G + p.high_ram);
}

TEST_CASE("several modules do not overlap each other, the kernel or the boot area") {
  PlanRequest r{};
  r.ram_bytes = 64ull << 20;
  r.kernel_base = 0x100000;
  r.kernel_span = 0x200000;
  r.module_count = 5;
  for (size_t i = 0; i < 5; ++i) r.modules[i] = {0x100000 * (i + 1) + 123, i * 10};
  Plan p;
  REQUIRE(plan(r, p) == PlanError::None);
  for (size_t i = 0; i < 5; ++i) {
    uint64_t a = p.module_gpa[i], n = r.modules[i].size;
    CHECK(a >= kHighRamStart);
    CHECK((a + n <= r.kernel_base || a >= r.kernel_base + r.kernel_span));
    CHECK(a + n <= r.ram_bytes);
    for (size_t j = 0; j < i; ++j) {
      uint64_t b = p.module_gpa[j], m = r.modules[j].size;
      CHECK((a + n <= b || b + m <= a));
    }
    if (i == 0) CHECK(p.module_cmdline_gpa[i] == 0);
    else CHECK(p.module_cmdline_gpa[i] >= kModuleCmdlineGpa);
  }
  CHECK(p.module_cmdline_gpa[2] == p.module_cmdline_gpa[1] + 11);
}

TEST_CASE("a kernel below 1 MiB loads where it asks, clear of the boot structures") {
  Plan p;
  PlanRequest r = linux_like(64ull << 20);
  r.cmdline_len = 100;  // the command line takes [0x20000, 0x20065)
  r.modules[0].cmdline_len = 10;
  r.module_count = 1;
  r.kernel_base = 0x30000;
  r.kernel_span = 0x40000;  // to 0x70000: free conventional memory
  REQUIRE(plan(r, p) == PlanError::None);
  CHECK(p.module_gpa[0] >= kHighRamStart);  // modules still go above 1 MiB
  r.kernel_base = 0x20000 + 100 + 1;  // right after the command line's NUL
  r.kernel_span = 0x1000;
  CHECK(plan(r, p) == PlanError::None);
  r.kernel_base = 0x20000 + 100;  // on its NUL
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);
  r.kernel_base = 0x10000 + 11;  // right after the module's command line
  r.kernel_span = 0x20000 - r.kernel_base;
  CHECK(plan(r, p) == PlanError::None);
  r.kernel_base = 0x10000 + 10;  // on the module command line's NUL
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);
  for (uint64_t at : {uint64_t{0}, uint64_t{0x500}, uint64_t{0x7000}, uint64_t{0x8000}, uint64_t{0xF000}}) {
    r.kernel_base = at;
    r.kernel_span = 0x100;
    CHECK(plan(r, p) == PlanError::KernelOutsideRam);  // page 0, GDT, boot information, tables
  }
  r.kernel_base = 0x90000;
  r.kernel_span = kLowRamEnd - 0x90000;  // up to the EBDA: fits
  CHECK(plan(r, p) == PlanError::None);
  r.kernel_span += 1;                   // into it
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);
  r.kernel_base = 0x90000;
  r.kernel_span = 0x80000;  // across the BIOS hole to above 1 MiB
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);
  r.kernel_base = kLowRamEnd - 0x10;
  r.kernel_span = UINT64_MAX;  // no wrap
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);
}

TEST_CASE("a kernel that hides the whole window gets no module room; other limits") {
  Plan p;
  PlanRequest r = linux_like(128ull << 20);
  CHECK(plan(r, p) == PlanError::None);
  r.kernel_span = (128ull << 20) - r.kernel_base;  // kernel up to the end of RAM
  r.modules[0].size = 16ull << 20;                // and no room below it either
  CHECK(plan(r, p) == PlanError::NoRoomForModule);
  r = linux_like(32ull << 20);
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);  // 0x1000000 + 0x3378000 > 32 MiB
  r = linux_like(512ull << 20);
  r.kernel_base = 0x8000;
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);  // on the boot area
  r = linux_like(512ull << 20);
  r.kernel_base = UINT64_MAX - 10;
  CHECK(plan(r, p) == PlanError::KernelOutsideRam);  // no wrap
  r = linux_like(512ull << 20);
  r.cmdline_len = 0x800;
  CHECK(plan(r, p) == PlanError::CmdlineTooLong);  // the kernel's cmdline_size is 0x7FF
  r.cmdline_len = 0x7FF;
  CHECK(plan(r, p) == PlanError::None);
  r.cmdline_max = 0;
  r.cmdline_len = kCmdlineMax;
  CHECK(plan(r, p) == PlanError::CmdlineTooLong);
  r.cmdline_len = kCmdlineMax - 1;
  CHECK(plan(r, p) == PlanError::None);
  CHECK(r.cmdline_len >= 1024);
  r = linux_like(1ull << 20);
  CHECK(plan(r, p) == PlanError::RamTooSmall);
  r.ram_bytes = 65ull << 30;
  CHECK(plan(r, p) == PlanError::RamTooLarge);
  r.ram_bytes = (512ull << 20) + 4096;
  CHECK(plan(r, p) == PlanError::RamNotAligned);
  r = linux_like(512ull << 20);
  r.module_count = kMaxModules + 1;
  CHECK(plan(r, p) == PlanError::TooManyModules);
  r.module_count = 2;
  r.modules[0].cmdline_len = 0x9000;
  r.modules[1].cmdline_len = 0x9000;
  CHECK(plan(r, p) == PlanError::ModuleCmdlinesTooLong);
  r.modules[0].size = UINT64_MAX;
  r.modules[0].cmdline_len = 0;
  r.modules[1].cmdline_len = 0;
  CHECK(plan(r, p) == PlanError::NoRoomForModule);
  CHECK(std::string(describe(PlanError::KernelOutsideRam)).find("3 GiB") != std::string::npos);
}

TEST_CASE("ram_offset: the two RAM ranges in the host's contiguous run, nothing in the hole or beyond") {
  uint64_t off = 0;
  // 16 MiB: one range.
  CHECK(ram_offset(16ull << 20, 0, 1, off));
  CHECK(off == 0);
  CHECK(ram_offset(16ull << 20, (16ull << 20) - 8, 8, off));
  CHECK(off == (16ull << 20) - 8);
  CHECK_FALSE(ram_offset(16ull << 20, (16ull << 20) - 8, 9, off));
  CHECK_FALSE(ram_offset(16ull << 20, 16ull << 20, 1, off));
  CHECK_FALSE(ram_offset(16ull << 20, k4G, 1, off));
  CHECK_FALSE(ram_offset(16ull << 20, 0, UINT64_MAX, off));
  CHECK_FALSE(ram_offset(16ull << 20, UINT64_MAX, 2, off));
  // 8 GiB: [0, 3G) at 0, [4G, 9G) at 3G.
  const uint64_t ram = 8ull << 30;
  CHECK(ram_offset(ram, kMmioHoleStart - 4, 4, off));
  CHECK(off == kMmioHoleStart - 4);
  CHECK_FALSE(ram_offset(ram, kMmioHoleStart - 4, 8, off));  // across into the hole
  CHECK_FALSE(ram_offset(ram, kTpmBase, 4, off));            // the hole is MMIO
  CHECK_FALSE(ram_offset(ram, kLapicBase, 4, off));
  CHECK(ram_offset(ram, k4G, 4096, off));
  CHECK(off == kMmioHoleStart);
  CHECK(ram_offset(ram, k4G + (5ull << 30) - 1, 1, off));
  CHECK(off == ram - 1);
  CHECK_FALSE(ram_offset(ram, k4G + (5ull << 30), 1, off));
  CHECK_FALSE(ram_offset(ram, k4G + (5ull << 30) - 1, 2, off));
  CHECK_FALSE(ram_offset(ram, k4G, UINT64_MAX, off));
  // Exactly 3 GiB: nothing above 4 GiB.
  CHECK_FALSE(ram_offset(3ull << 30, k4G, 1, off));
  CHECK(ram_offset(3ull << 30, (3ull << 30) - 1, 1, off));
}
