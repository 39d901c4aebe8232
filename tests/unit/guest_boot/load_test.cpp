// load_boot_image(): each format end to end into a guest RAM vector, with
// the addresses and bytes a kernel reads back (boot.rst, start_info.h,
// Multiboot 0.6.96 §3.3), and the refusals guest creation reports.
#include <catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "images.hpp"
#include "vmm/core/multiboot1.hpp"
#include "vmm/guest_boot/linux_boot.hpp"
#include "vmm/guest_boot/load.hpp"
#include "vmm/guest_boot/pvh.hpp"

using namespace mamori::vmm::guest_boot;

namespace {
uint32_t rd32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t rd64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

// Guest RAM below 4 GiB only (the tests use small guests), like the VMM's.
struct Ram final : GuestRamWriter {
  std::vector<uint8_t> m;
  explicit Ram(uint64_t n) : m(n, 0) {}
  uint8_t* bytes(uint64_t gpa, uint64_t n) override {
    return gpa < m.size() && n <= m.size() - gpa ? m.data() + gpa : nullptr;
  }
  const uint8_t* at(uint64_t gpa) const { return m.data() + gpa; }
  std::string str(uint64_t gpa) const { return reinterpret_cast<const char*>(m.data() + gpa); }
};

BootFile file(const std::vector<uint8_t>& b, const char* name, const char* args = nullptr) {
  return BootFile{b.data(), b.size(), name, args};
}

BootRequest request(const std::vector<uint8_t>& kernel, uint64_t ram, const char* cmdline = "") {
  BootRequest r{};
  r.vm_name = "vm1";
  r.cmdline = cmdline;
  r.ram_bytes = ram;
  r.kernel = file(kernel, "kernel");
  return r;
}

std::vector<uint8_t> filled(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 13);
  return v;
}

// An ELF64 Multiboot kernel as the project's test guests are (tests/guests).
std::vector<uint8_t> multiboot_elf64() {
  auto e = mamori::test::ElfBuilder::typical();
  e.entry = 0x400100;
  auto b = e.build();
  const uint32_t h[3] = {0x1BADB002, 3, static_cast<uint32_t>(-(0x1BADB002u + 3u))};
  std::memcpy(&b[0x1000], h, sizeof h);
  return b;
}
}  // namespace

TEST_CASE("Linux bzImage: kernel at its load address, boot_params with cmdline, initrd and e820; ESI") {
  const mamori::test::BzImage bz;
  const auto k = bz.build();
  const auto initrd = filled(0x12345, 3);
  const std::string cl = "console=ttyS0 earlyprintk=serial,ttyS0,115200 " + std::string(1500, 'x');
  BootRequest r = request(k, 256ull << 20, cl.c_str());
  r.initrd = file(initrd, "initrd.img");
  Ram ram(256ull << 20);
  const BootResult res = load_boot_image(r, ram);
  INFO(describe(res.error) << " " << (res.message ? res.message : "") << " " << (res.detail ? res.detail : ""));
  REQUIRE(res.error == LoadError::None);
  CHECK(res.kind == ImageKind::LinuxBzImage);
  CHECK(std::string(res.format) == "a Linux bzImage");
  CHECK(res.boot_gdt);
  // Entry: 32-bit entry = load address (pref_address 0x1000000), ESI = zero page.
  CHECK(res.entry.eip == 0x1000000);
  CHECK(res.entry.esi == kBootInfoGpa);
  CHECK(res.entry.ebx == 0);
  CHECK(res.entry.cs.selector == kBootCs);
  CHECK(res.entry.ds.selector == kBootDs);
  // The protected-mode kernel, byte for byte.
  const size_t off = (bz.setup_sects + 1) * 512;
  CHECK(std::memcmp(ram.at(0x1000000), k.data() + off, k.size() - off) == 0);
  // boot_params: HdrS, loader type, command line, initrd, e820.
  const uint8_t* bp = ram.at(kBootInfoGpa);
  CHECK(rd32(bp + 0x202) == kHdrSMagic);
  CHECK(bp[0x210] == kTypeOfLoaderUndefined);
  CHECK(ram.str(rd32(bp + 0x228)) == cl);
  const uint32_t rd_at = rd32(bp + 0x218), rd_size = rd32(bp + 0x21C);
  CHECK(rd_size == initrd.size());
  REQUIRE(res.module_count == 1);
  CHECK(rd_at == res.module_gpa[0]);
  CHECK(rd_at % 4096 == 0);
  CHECK(std::memcmp(ram.at(rd_at), initrd.data(), initrd.size()) == 0);
  // The initrd lies above the kernel's init_size span (it decompresses there).
  CHECK(rd_at >= 0x1000000 + bz.init_size);
  const uint8_t n_e820 = bp[0x1E8];
  REQUIRE(n_e820 >= 2);
  bool ram_at_1m = false;
  for (unsigned i = 0; i < n_e820; ++i) {
    const uint8_t* e = bp + 0x2D0 + 20 * i;
    if (rd64(e) == 0x100000 && rd32(e + 16) == 1) ram_at_1m = rd64(e + 8) == (256ull << 20) - 0x100000;
  }
  CHECK(ram_at_1m);
  // The boot GDT: 0x10 code, 0x18 data.
  CHECK(rd64(ram.at(kGdtGpa + 0x10)) == 0x00CF9B000000FFFFull);
  CHECK(rd64(ram.at(kGdtGpa + 0x18)) == 0x00CF93000000FFFFull);
}

TEST_CASE("Linux: a command line beyond the kernel's cmdline_size, too little RAM, modules: refused with reasons") {
  mamori::test::BzImage bz;
  bz.cmdline_size = 255;
  const auto k = bz.build();
  Ram ram(256ull << 20);
  const std::string cl(256, 'c');
  BootResult res = load_boot_image(request(k, 256ull << 20, cl.c_str()), ram);
  CHECK(res.error == LoadError::NoPlace);
  CHECK(std::string(res.detail) == describe(PlanError::CmdlineTooLong));
  // init_size 48 MiB from 16 MiB does not fit 32 MiB.
  Ram small(32ull << 20);
  const auto k2 = mamori::test::BzImage{}.build();
  res = load_boot_image(request(k2, 32ull << 20), small);
  CHECK(res.error == LoadError::NoPlace);
  CHECK(std::string(res.detail) == describe(PlanError::KernelOutsideRam));
  // module = is Multiboot's.
  const auto m = filled(100, 1);
  BootRequest r = request(k2, 256ull << 20);
  r.modules[0] = file(m, "mod");
  r.module_count = 1;
  res = load_boot_image(r, ram);
  CHECK(res.error == LoadError::ModulesNotMultiboot);
  CHECK(std::string(res.message).find("initrd =") != std::string::npos);
}

TEST_CASE("PVH vmlinux: segments at their physical addresses, hvm_start_info with cmdline, initrd, memmap; EBX") {
  const mamori::test::PvhElf pe;
  const auto k = pe.build();
  const auto initrd = filled(0x3000, 9);
  BootRequest r = request(k, 128ull << 20, "console=hvc0 root=/dev/ram0");
  r.initrd = file(initrd, "initramfs");
  r.acpi_rsdp = 0xE0000;
  Ram ram(128ull << 20);
  const BootResult res = load_boot_image(r, ram);
  INFO(describe(res.error) << " " << (res.message ? res.message : "") << " " << (res.detail ? res.detail : ""));
  REQUIRE(res.error == LoadError::None);
  CHECK(res.kind == ImageKind::PvhElf);
  CHECK(res.boot_gdt);
  CHECK(res.entry.eip == 0x1000850);
  CHECK(res.entry.ebx == kBootInfoGpa);
  CHECK(std::memcmp(ram.at(0x1000000), k.data() + 0x1000, 0x1000) == 0);
  CHECK(std::memcmp(ram.at(0x1001000), k.data() + 0x2000, 0x800) == 0);
  CHECK(ram.at(0x1001800)[0] == 0);  // .bss zero
  const uint8_t* si = ram.at(kBootInfoGpa);
  CHECK(rd32(si) == kHvmStartMagic);
  CHECK(rd32(si + 4) == 1);
  CHECK(rd32(si + 12) == 1);  // nr_modules
  CHECK(ram.str(rd64(si + 24)) == "console=hvc0 root=/dev/ram0");
  CHECK(rd64(si + 32) == 0xE0000);  // rsdp_paddr
  const uint8_t* mod = ram.at(rd64(si + 16));
  CHECK(rd64(mod + 8) == initrd.size());
  CHECK(std::memcmp(ram.at(rd64(mod)), initrd.data(), initrd.size()) == 0);
  CHECK(rd32(si + 48) >= 2);  // memmap entries
  CHECK(rd64(si + 40) == kBootTablesGpa + kHvmModlistEntrySize);
}

TEST_CASE("Multiboot ELF64 (the test guests): \"NAME cmdline\", mmap, EAX magic; modules with \"FILE args\"") {
  const auto k = multiboot_elf64();
  const auto m0 = filled(5000, 1), m1 = filled(0x2000, 2), rd = filled(77, 4);
  BootRequest r = request(k, 16ull << 20, "step=6 spin=100");
  r.vm_name = "exits-crb";
  Ram ram(16ull << 20);
  BootResult res = load_boot_image(r, ram);
  REQUIRE(res.error == LoadError::None);
  CHECK(res.kind == ImageKind::Multiboot1Elf64);
  CHECK_FALSE(res.boot_gdt);  // the test guests keep CS 0x08/data 0x10
  CHECK(res.entry.eip == 0x400100);
  CHECK(res.entry.eax == mamori::core::kMultiboot1BootloaderMagic);
  CHECK(res.entry.ebx == kBootInfoGpa);
  const uint8_t* mbi = ram.at(kBootInfoGpa);
  CHECK((rd32(mbi) & 0x4D) == 0x45);  // mem, cmdline, mmap; no mods
  CHECK(ram.str(rd32(mbi + 16)) == "exits-crb step=6 spin=100");
  CHECK(rd32(mbi + 8) == (16u << 10) - 1024);  // mem_upper as before: RAM from 1 MiB
  // With an initrd and two modules: mods_count 3 in that order, strings "FILE args".
  r.initrd = file(rd, "first.img");
  r.modules[0] = file(m0, "mod0.bin", "a=1 b");
  r.modules[1] = file(m1, "mod1.bin", "");
  r.module_count = 2;
  Ram ram2(16ull << 20);
  res = load_boot_image(r, ram2);
  REQUIRE(res.error == LoadError::None);
  mbi = ram2.at(kBootInfoGpa);
  CHECK((rd32(mbi) & 0x8) == 0x8);
  REQUIRE(rd32(mbi + 20) == 3);
  const uint8_t* mods = ram2.at(rd32(mbi + 24));
  const std::vector<uint8_t>* want[3] = {&rd, &m0, &m1};
  const char* strings[3] = {"first.img", "mod0.bin a=1 b", "mod1.bin"};
  for (int i = 0; i < 3; ++i) {
    INFO("module " << i);
    const uint32_t start = rd32(mods + 16 * i), end = rd32(mods + 16 * i + 4);
    CHECK(start % 4096 == 0);  // Multiboot header flag 0
    CHECK(end - start == want[i]->size());
    CHECK(std::memcmp(ram2.at(start), want[i]->data(), want[i]->size()) == 0);
    CHECK(ram2.str(rd32(mods + 16 * i + 8)) == strings[i]);
  }
}

TEST_CASE("Multiboot ELF32 and a.out-kludge kernels load") {
  const auto k = mamori::test::multiboot_elf32();
  Ram ram(16ull << 20);
  BootResult res = load_boot_image(request(k, 16ull << 20), ram);
  REQUIRE(res.error == LoadError::None);
  CHECK(res.kind == ImageKind::Multiboot1Elf32);
  CHECK(res.entry.eip == 0x100010);
  CHECK(std::memcmp(ram.at(0x100000), k.data() + 0x1000, 0x800) == 0);
  CHECK(ram.str(rd32(ram.at(kBootInfoGpa) + 16)) == "vm1");
  // a.out kludge: header at file 0 = load_addr 0x100000, load_end 0x102000, bss_end 0x103000, entry 0x100020.
  std::vector<uint8_t> raw(0x2000, 0x90);
  const uint32_t h[8] = {0x1BADB002, 0x10003, static_cast<uint32_t>(-(0x1BADB002u + 0x10003u)), 0x100000, 0x100000,
                         0x102000, 0x103000, 0x100020};
  std::memcpy(raw.data(), h, sizeof h);
  Ram ram2(16ull << 20);
  res = load_boot_image(request(raw, 16ull << 20), ram2);
  INFO(describe(res.error) << " " << (res.message ? res.message : "") << " " << (res.detail ? res.detail : ""));
  REQUIRE(res.error == LoadError::None);
  CHECK(res.kind == ImageKind::Multiboot1Kludge);
  CHECK(res.entry.eip == 0x100020);
  CHECK(std::memcmp(ram2.at(0x100000), raw.data(), raw.size()) == 0);
  CHECK(res.kernel_span == 0x3000);
}

TEST_CASE("a Multiboot kernel linked below 1 MiB loads there; on the boot information it is refused") {
  const auto k = mamori::test::multiboot_elf32(0x40010, 3, 0x40000);
  Ram ram(16ull << 20);
  BootResult res = load_boot_image(request(k, 16ull << 20), ram);
  INFO(describe(res.error) << " " << (res.detail ? res.detail : ""));
  REQUIRE(res.error == LoadError::None);
  CHECK(res.entry.eip == 0x40010);
  CHECK(std::memcmp(ram.at(0x40000), k.data() + 0x1000, 0x800) == 0);
  CHECK(std::memcmp(ram.at(0x41000), k.data() + 0x1800, 0x800) == 0);
  CHECK(ram.str(rd32(ram.at(kBootInfoGpa) + 16)) == "vm1");  // its boot information is intact
  const auto on_info = mamori::test::multiboot_elf32(0x7010, 3, 0x7000);
  Ram ram2(16ull << 20);
  res = load_boot_image(request(on_info, 16ull << 20), ram2);
  CHECK(res.error == LoadError::NoPlace);
  CHECK(std::string(res.detail) == describe(PlanError::KernelOutsideRam));
}

TEST_CASE("refusals: not a kernel, too many modules, RAM the writer refuses") {
  Ram ram(16ull << 20);
  const std::vector<uint8_t> gz = {0x1f, 0x8b, 8, 0, 0, 0};
  BootResult res = load_boot_image(request(gz, 16ull << 20), ram);
  CHECK(res.error == LoadError::Refused);
  CHECK(std::string(res.message).find("a gzip file") == 0);
  const std::vector<uint8_t> empty;
  res = load_boot_image(request(empty, 16ull << 20), ram);
  CHECK(res.error == LoadError::Refused);
  CHECK(std::string(res.message) == "an empty file");
  // 16 modules plus an initrd.
  const auto k = multiboot_elf64();
  const auto m = filled(10, 0);
  BootRequest r = request(k, 16ull << 20);
  r.initrd = file(m, "rd");
  for (size_t i = 0; i < kMaxModules; ++i) r.modules[i] = file(m, "m");
  r.module_count = kMaxModules;
  CHECK(load_boot_image(r, ram).error == LoadError::TooManyModules);
  // A writer with less RAM than the request claims: nothing is written past it.
  Ram tiny(1ull << 20);
  res = load_boot_image(request(k, 16ull << 20), tiny);
  CHECK(res.error == LoadError::OutsideRam);
}
