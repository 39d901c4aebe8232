// The Multiboot 0.6.96 information structure (§3.3) a Multiboot1 kernel
// finds through EBX, with its memory map (flag 6), command line (flag 2)
// and modules (flag 3: mods_addr points at mods_count entries of
// {mod_start, mod_end, string, reserved}, string = the module's command
// line, §3.3 "mods"). Used for Multiboot ELF64, ELF32 and a.out-kludge
// kernels alike.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_boot/entry_state.hpp"
#include "vmm/guest_boot/layout.hpp"

namespace mamori::vmm::guest_boot {

inline constexpr uint32_t kMbiMem = 1u << 0, kMbiCmdline = 1u << 2, kMbiMods = 1u << 3, kMbiMmap = 1u << 6;
inline constexpr size_t kMbiSize = 52;          // up to mmap_addr (flags 0-6)
inline constexpr size_t kMbiModuleSize = 16;
inline constexpr size_t kMbiMmapEntrySize = 24; // size field (20) + 20 bytes

struct MultibootInputs {
  uint64_t module_sizes[kMaxModules];
  size_t module_count;
  bool have_cmdline;
};

// Writes the information structure at `info` (kMbiSize bytes, for guest
// address kBootInfoGpa) and the module list then the memory map at
// `tables` (for kBootTablesGpa, kBootTablesSize bytes). Multiboot's
// fields are 32-bit: RAM above 4 GiB appears in the memory map only
// (64-bit base/length) and not in mem_upper; modules must lie below
// 4 GiB (the plan request says so). Returns the bytes written at `tables`.
size_t multiboot_write_info(const MultibootInputs& in, const Plan& p, uint8_t* info, uint8_t* tables);

EntryState multiboot_entry_state(uint32_t entry, uint64_t info_gpa, uint64_t gdt_gpa);

}  // namespace mamori::vmm::guest_boot
