// Runs the VMM's own ELF64 validator (vmm/core/elf64.hpp) over the built
// guests with the policy a guest image gets (entry is physical, segments at
// or above 1 MiB and inside the smallest RAM mamori.cfg allows, no W+X), so
// a guest that mamori would refuse fails here first (ctest
// guests_vmm_loader_accepts, label unit). The VMM's Multiboot1 header
// parser must find the header and load the image as ELF (no flag 16).
#include <stdio.h>

#include <vector>

#include "vmm/core/elf64.hpp"
#include "vmm/core/multiboot1.hpp"

namespace {
constexpr uint64_t kGuestImageMinGpa = 0x100000;  // vmm: lowest guest image address (1 MiB)
constexpr uint64_t kSmallestGuestRam = 2ull << 20; // docs/config.md: memory >= 2M
}  // namespace

int main(int argc, char** argv) {
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    FILE* f = fopen(argv[i], "rb");
    if (f == nullptr) {
      printf("FAIL %s: cannot open\n", argv[i]);
      ++failed;
      continue;
    }
    std::vector<uint8_t> data;
    uint8_t buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) data.insert(data.end(), buf, buf + n);
    fclose(f);

    mamori::core::ElfPolicy policy;
    policy.entry_space = mamori::core::ElfEntrySpace::Physical;
    policy.refuse_wx = true;
    policy.min_paddr = kGuestImageMinGpa;
    policy.max_paddr = kSmallestGuestRam;
    policy.max_total_memsz = kSmallestGuestRam;
    mamori::core::ElfImage img;
    const mamori::core::ElfError e = mamori::core::elf64_validate(data.data(), data.size(), policy, img);
    if (e != mamori::core::ElfError::None) {
      printf("FAIL %s: %s (program header %zu)\n", argv[i], mamori::core::describe(e), img.bad_index);
      ++failed;
      continue;
    }
    mamori::core::Multiboot1Header mb;
    const mamori::core::Multiboot1Error me = mamori::core::multiboot1_parse(data.data(), data.size(), mb);
    if (me != mamori::core::Multiboot1Error::None || mb.has_addresses) {
      printf("FAIL %s: Multiboot header: %s%s\n", argv[i], mamori::core::describe(me),
             mb.has_addresses ? " (address fields: the guests load as ELF)" : "");
      ++failed;
      continue;
    }
    printf("ok %s: Multiboot header at 0x%zx flags 0x%x; entry 0x%llx, %zu segments, paddr [0x%llx, 0x%llx)\n", argv[i], mb.offset, mb.flags,
           static_cast<unsigned long long>(img.entry), img.segment_count,
           static_cast<unsigned long long>(img.paddr_low), static_cast<unsigned long long>(img.paddr_high));
  }
  return failed == 0 && argc > 1 ? 0 : 1;
}
