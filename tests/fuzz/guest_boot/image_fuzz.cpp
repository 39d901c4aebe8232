// Fuzz the guest boot image parsers with any bytes: identify(), the Linux
// setup header (and the zero page built from it), the PVH note scan, the
// ELF32 load plan. Each must accept or refuse without reading outside the
// buffer; what is accepted must keep the promises the loader relies on.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "../../unit/guest_boot/images.hpp"
#include "vmm/core/elf64.hpp"
#include "vmm/guest_boot/elf32.hpp"
#include "vmm/guest_boot/identify.hpp"
#include "vmm/guest_boot/linux_boot.hpp"
#include "vmm/guest_boot/load.hpp"
#include "vmm/guest_boot/pvh.hpp"

using namespace mamori::vmm::guest_boot;
namespace core = mamori::core;

namespace {
void require(bool c) {
  if (!c) abort();
}

// Guest RAM of `ram` bytes backed by one scratch page run: every in-range
// write lands in the scratch (its content does not matter here), so the
// loader's bounds logic runs on any size without allocating guest RAM.
struct ScratchRam final : GuestRamWriter {
  uint64_t ram;
  std::vector<uint8_t> buf = std::vector<uint8_t>(1u << 20);
  explicit ScratchRam(uint64_t r) : ram(r) {}
  uint8_t* bytes(uint64_t gpa, uint64_t n) override {
    if (gpa >= ram || n > ram - gpa || n > buf.size()) return nullptr;
    return buf.data();
  }
};

void run_load(const uint8_t* d, size_t n) {
  // The file is the kernel; its tail is the initrd and a module.
  BootRequest req{};
  req.vm_name = "fuzz";
  req.cmdline = "console=ttyS0";
  req.ram_bytes = (64ull << 20) + ((n & 3) << 30);  // also beyond the 3 GiB hole
  req.kernel = BootFile{d, n, "kernel", nullptr};
  if (n > 16) req.initrd = BootFile{d + n / 2, n - n / 2, "initrd", nullptr};
  if (n & 4) {
    req.modules[0] = BootFile{d, n / 3, "mod", "a b"};
    req.module_count = 1;
  }
  ScratchRam ram(req.ram_bytes);
  BootResult r = load_boot_image(req, ram);
  require(r.format != nullptr || r.error == LoadError::Refused);
  if (r.error == LoadError::None) {
    require(r.kind != ImageKind::Refused);
    require(r.entry.eip >= kHighRamStart && r.entry.eip < low_ram_bytes(req.ram_bytes));
    for (size_t i = 0; i < r.module_count; ++i) require(r.module_gpa[i] % kPageSize == 0 && r.module_gpa[i] < k4G);
  }
}

void run(const uint8_t* d, size_t n) {
  run_load(d, n);
  Identified id = identify(d, n);
  require(id.message != nullptr);

  LinuxKernel k;
  if (linux_parse(d, n, k) == LinuxError::None) {
    require(id.kind == ImageKind::LinuxBzImage);
    require(k.kernel_offset < n && k.kernel_offset + k.kernel_size == n);
    require(k.header_end <= 0x290 && k.header_end <= n);
    LinuxBootInputs in{n % 4096, n * 3, 0xE0000, 512ull << 20};
    Plan p;
    if (plan(linux_plan_request(k, in), p) == PlanError::None) {
      static uint8_t bp[kBootParamsSize];
      linux_write_boot_params(d, k, in, p, bp);
      require(bp[0x210] == 0xFF && bp[0x1EF] == 0);
      EntryState s = linux_entry_state(k, kBootInfoGpa, kGdtGpa);
      require(s.eip == k.load_address && k.load_address >= kHighRamStart);
    }
  }

  core::ElfPolicy pol;
  pol.entry_space = core::ElfEntrySpace::Physical;
  static core::ElfImage img;
  if (core::elf64_validate(d, n, pol, img) == core::ElfError::None) {
    uint32_t entry = 0;
    if (pvh_find_entry(d, n, img, entry) == PvhError::None) {
      bool inside = false;
      for (size_t i = 0; i < img.segment_count; ++i)
        inside |= entry >= img.segments[i].paddr && entry - img.segments[i].paddr < img.segments[i].memsz;
      require(inside);
    }
  }
  if (elf32_validate(d, n, kHighRamStart, k4G, img) == Elf32Error::None) {
    for (size_t i = 0; i < img.segment_count; ++i) {
      require(img.segments[i].offset + img.segments[i].filesz <= n);
      require(img.segments[i].paddr + img.segments[i].memsz <= k4G);
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // First byte 1..3: overlay the rest on a valid image of one format, so
  // the fuzzer reaches the deep checks instead of rediscovering the magics.
  if (size > 1 && data[0] >= 1 && data[0] <= 3) {
    std::vector<uint8_t> b = data[0] == 1   ? mamori::test::BzImage{}.build()
                             : data[0] == 2 ? mamori::test::PvhElf{}.build()
                                            : mamori::test::multiboot_elf32();
    size_t at = data[0] == 1 ? 0x1F1 : data[0] == 2 ? 0x40 : 0x20;
    for (size_t i = 1; i < size && at + i - 1 < b.size(); ++i) b[at + i - 1] = data[i];
    if (size > b.size()) b.resize(size % (b.size() + 1) + 1);  // and the file length
    run(b.data(), b.size());
    return 0;
  }
  run(data, size);
  return 0;
}
