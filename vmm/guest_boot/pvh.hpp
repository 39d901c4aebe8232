// The PVH entry of an ELF kernel (Xen's "HVM direct boot", also used by
// QEMU, Firecracker and Cloud Hypervisor): the uncompressed Linux vmlinux
// carries an ELF note XEN_ELFNOTE_PHYS32_ENTRY (type 18, name "Xen") whose
// descriptor is the physical 32-bit entry (xen/include/public/elfnote.h;
// Linux arch/x86/platform/pvh/head.S emits it as a pointer-sized value, so
// 8 bytes on x86-64: the upper half must be zero). The loader copies the
// PT_LOAD segments to their physical addresses and enters there with EBX
// pointing at an hvm_start_info (start_info.h, version 1: with a memory map).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/core/elf64.hpp"
#include "vmm/guest_boot/entry_state.hpp"
#include "vmm/guest_boot/layout.hpp"

namespace mamori::vmm::guest_boot {

inline constexpr uint32_t kXenElfnotePhys32Entry = 18;
inline constexpr uint32_t kHvmStartMagic = 0x336ec578;  // XEN_HVM_START_MAGIC_VALUE
inline constexpr uint32_t kElfPtNote = 4;
inline constexpr size_t kHvmStartInfoSize = 56;          // version 1
inline constexpr size_t kHvmModlistEntrySize = 32;
inline constexpr size_t kHvmMemmapEntrySize = 24;

enum class PvhError : uint32_t {
  None = 0,
  NoNote,             // no PT_NOTE holds a XEN_ELFNOTE_PHYS32_ENTRY
  BadNote,            // a note header or its name/descriptor runs past its segment or the file
  BadDescriptor,      // descriptor shorter than 4 bytes, or an 8-byte one with a non-zero upper half
  EntryNotInImage,    // the entry is not inside an executable PT_LOAD segment's physical range
};
const char* describe(PvhError e);

// Scans the PT_NOTE segments of a validated ELF64 (`img` from
// core::elf64_validate on the same bytes) for the PVH entry.
PvhError pvh_find_entry(const uint8_t* data, size_t size, const core::ElfImage& img, uint32_t& entry);

struct PvhInputs {
  uint64_t cmdline_len;       // 0: no command line (cmdline_paddr 0)
  uint64_t initrd_size;       // module 0 when non-zero
  uint64_t acpi_rsdp;
};

// Writes hvm_start_info at `info` (kHvmStartInfoSize bytes) and, at
// `tables` (for guest address kBootTablesGpa), the module list (one entry:
// the initrd) and then the memory map. Returns the bytes written at
// `tables`, which must hold kBootTablesSize.
size_t pvh_write_start_info(const PvhInputs& in, const Plan& p, uint8_t* info, uint8_t* tables);

EntryState pvh_entry_state(uint32_t entry, uint64_t start_info_gpa, uint64_t gdt_gpa);

}  // namespace mamori::vmm::guest_boot
