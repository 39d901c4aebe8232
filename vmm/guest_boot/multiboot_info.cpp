#include "vmm/guest_boot/multiboot_info.hpp"

#include "vmm/core/multiboot1.hpp"
#include "vmm/guest_boot/bytes.hpp"

namespace mamori::vmm::guest_boot {

size_t multiboot_write_info(const MultibootInputs& in, const Plan& p, uint8_t* info, uint8_t* tables) {
  __builtin_memset(info, 0, kMbiSize);
  uint32_t flags = kMbiMem | kMbiMmap;
  // §3.3: mem_lower from 0, mem_upper from 1 MiB to the first hole, in KiB.
  put32(info + 4, static_cast<uint32_t>(kLowRamEnd / 1024));
  put32(info + 8, static_cast<uint32_t>((p.low_ram - kHighRamStart) / 1024));
  if (in.have_cmdline) {
    flags |= kMbiCmdline;
    put32(info + 16, static_cast<uint32_t>(p.cmdline_gpa));
  }
  size_t used = 0;
  if (in.module_count) {
    flags |= kMbiMods;
    put32(info + 20, static_cast<uint32_t>(in.module_count));
    put32(info + 24, static_cast<uint32_t>(kBootTablesGpa));
    for (size_t i = 0; i < in.module_count && i < p.module_count; ++i) {
      uint8_t* m = tables + used;
      put32(m, static_cast<uint32_t>(p.module_gpa[i]));
      put32(m + 4, static_cast<uint32_t>(p.module_gpa[i] + in.module_sizes[i]));  // mod_end: first byte after
      put32(m + 8, static_cast<uint32_t>(p.module_cmdline_gpa[i]));
      put32(m + 12, 0);
      used += kMbiModuleSize;
    }
  }
  uint64_t mmap = kBootTablesGpa + used;
  size_t mmap_len = 0;
  for (size_t i = 0; i < p.map_count; ++i) {
    // §3.3 mmap entry: size (of the rest, 20), base_addr, length, type.
    uint8_t* e = tables + used;
    put32(e, 20);
    put64(e + 4, p.map[i].base);
    put64(e + 12, p.map[i].size);
    put32(e + 20, static_cast<uint32_t>(p.map[i].type));
    used += kMbiMmapEntrySize;
    mmap_len += kMbiMmapEntrySize;
  }
  put32(info + 44, static_cast<uint32_t>(mmap_len));
  put32(info + 48, static_cast<uint32_t>(mmap));
  put32(info + 0, flags);
  return used;
}

EntryState multiboot_entry_state(uint32_t entry, uint64_t info_gpa, uint64_t gdt_gpa) {
  EntryState s = flat_protected_mode(gdt_gpa);
  s.eip = entry;
  s.eax = core::kMultiboot1BootloaderMagic;
  s.ebx = static_cast<uint32_t>(info_gpa);
  return s;
}

}  // namespace mamori::vmm::guest_boot
