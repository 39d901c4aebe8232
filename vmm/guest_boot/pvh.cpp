#include "vmm/guest_boot/pvh.hpp"

#include "vmm/guest_boot/bytes.hpp"

namespace mamori::vmm::guest_boot {

const char* describe(PvhError e) {
  switch (e) {
    case PvhError::None: return "no error";
    case PvhError::NoNote: return "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) in its PT_NOTE segments";
    case PvhError::BadNote: return "a malformed ELF note (header, name or descriptor past its segment)";
    case PvhError::BadDescriptor: return "a PVH entry note whose descriptor is not a 32-bit address";
    case PvhError::EntryNotInImage: return "its PVH entry is not inside an executable segment";
  }
  return "unknown PVH error";
}

PvhError pvh_find_entry(const uint8_t* d, size_t size, const core::ElfImage& img, uint32_t& entry) {
  entry = 0;
  bool found = false;
  for (size_t i = 0; i < img.phnum; ++i) {
    const uint8_t* ph = d + img.phoff + 56 * i;  // elf64_validate checked the table is in the file
    if (le32(ph) != kElfPtNote) continue;
    uint64_t off = le64(ph + 8), len = le64(ph + 32);
    if (off > size || len > size - off) return PvhError::BadNote;
    // gABI "Note Section": namesz, descsz, type, then name and desc, each padded to 4 bytes.
    uint64_t at = 0;
    while (len - at >= 12) {
      const uint8_t* n = d + off + at;
      uint64_t namesz = le32(n), descsz = le32(n + 4);
      uint32_t type = le32(n + 8);
      uint64_t name_pad = align_up(namesz, 4), desc_pad = align_up(descsz, 4);
      if (name_pad > len - at - 12 || desc_pad > len - at - 12 - name_pad) return PvhError::BadNote;
      const uint8_t* name = n + 12;
      const uint8_t* desc = name + name_pad;
      if (type == kXenElfnotePhys32Entry && namesz == 4 && __builtin_memcmp(name, "Xen", 4) == 0) {
        if (descsz < 4 || (descsz == 8 && le32(desc + 4) != 0) || (descsz != 4 && descsz != 8))
          return PvhError::BadDescriptor;
        entry = le32(desc);
        found = true;
      }
      at += 12 + name_pad + desc_pad;
    }
  }
  if (!found) return PvhError::NoNote;
  for (size_t i = 0; i < img.segment_count; ++i) {
    const core::ElfSegment& s = img.segments[i];
    if ((s.flags & core::kElfPfX) && entry >= s.paddr && entry - s.paddr < s.memsz) return PvhError::None;
  }
  return PvhError::EntryNotInImage;
}

size_t pvh_write_start_info(const PvhInputs& in, const Plan& p, uint8_t* info, uint8_t* tables) {
  __builtin_memset(info, 0, kHvmStartInfoSize);
  size_t used = 0;
  uint32_t nr_modules = 0;
  uint64_t modlist = 0;
  if (in.initrd_size && p.module_count > 0) {
    // struct hvm_modlist_entry { paddr, size, cmdline_paddr, reserved }.
    uint8_t* m = tables;
    put64(m, p.module_gpa[0]);
    put64(m + 8, in.initrd_size);
    put64(m + 16, p.module_cmdline_gpa[0]);
    put64(m + 24, 0);
    modlist = kBootTablesGpa;
    nr_modules = 1;
    used += kHvmModlistEntrySize;
  }
  uint64_t memmap = kBootTablesGpa + used;
  for (size_t i = 0; i < p.map_count; ++i) {
    // struct hvm_memmap_table_entry { addr, size, type, reserved }.
    uint8_t* e = tables + used;
    put64(e, p.map[i].base);
    put64(e + 8, p.map[i].size);
    put32(e + 16, static_cast<uint32_t>(p.map[i].type));
    put32(e + 20, 0);
    used += kHvmMemmapEntrySize;
  }
  // struct hvm_start_info (start_info.h).
  put32(info + 0, kHvmStartMagic);
  put32(info + 4, 1);  // version 1: memmap_paddr and memmap_entries present
  put32(info + 8, 0);  // flags: not a privileged (dom0) guest
  put32(info + 12, nr_modules);
  put64(info + 16, modlist);
  put64(info + 24, in.cmdline_len ? p.cmdline_gpa : 0);
  put64(info + 32, in.acpi_rsdp);
  put64(info + 40, memmap);
  put32(info + 48, static_cast<uint32_t>(p.map_count));
  put32(info + 52, 0);
  return used;
}

EntryState pvh_entry_state(uint32_t entry, uint64_t start_info_gpa, uint64_t gdt_gpa) {
  EntryState s = flat_protected_mode(gdt_gpa);
  s.eip = entry;
  s.ebx = static_cast<uint32_t>(start_info_gpa);
  return s;
}

}  // namespace mamori::vmm::guest_boot
