// Synthetic boot images for the guest_boot tests and fuzz seeds: a
// bzImage with a protocol 2.15 setup header laid out as Linux's
// arch/x86/boot/header.S does, ELF64 kernels with a PVH note, ELF32
// Multiboot kernels.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "../core/elf_builder.hpp"

namespace mamori::test {

inline void put_le(std::vector<uint8_t>& b, size_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct BzImage {
  uint8_t setup_sects = 27;
  uint16_t version = 0x20F;
  uint8_t loadflags = 0x01;
  uint32_t code32_start = 0x100000;
  uint32_t initrd_addr_max = 0x7FFFFFFF;
  uint32_t kernel_alignment = 0x200000;
  uint8_t relocatable = 1;
  uint8_t min_alignment = 21;
  uint16_t xloadflags = 0x7F;
  uint32_t cmdline_size = 0x7FF;
  uint64_t pref_address = 0x1000000;
  uint32_t init_size = 0x3000000;
  uint8_t jump_len = 0x6A;  // header end = 0x202 + 0x6A = 0x26C
  size_t kernel_bytes = 0x4000;

  std::vector<uint8_t> build() const {
    size_t setup = (static_cast<size_t>(setup_sects ? setup_sects : 4) + 1) * 512;
    std::vector<uint8_t> b(setup + kernel_bytes, 0);
    b[0] = 'M'; b[1] = 'Z';  // the EFI stub's PE/COFF header, as in Debian's vmlinuz
    b[0x1F1] = setup_sects;
    put_le(b, 0x1F4, kernel_bytes / 16, 4);  // syssize
    put_le(b, 0x1FE, 0xAA55, 2);
    b[0x200] = 0xEB;
    b[0x201] = jump_len;
    std::memcpy(&b[0x202], "HdrS", 4);
    put_le(b, 0x206, version, 2);
    b[0x211] = loadflags;
    put_le(b, 0x214, code32_start, 4);
    put_le(b, 0x224, 0xDE00, 2);  // heap_end_ptr as built (a loader must clear or set it)
    put_le(b, 0x22C, initrd_addr_max, 4);
    put_le(b, 0x230, kernel_alignment, 4);
    b[0x234] = relocatable;
    b[0x235] = min_alignment;
    put_le(b, 0x236, xloadflags, 2);
    put_le(b, 0x238, cmdline_size, 4);
    put_le(b, 0x258, pref_address, 8);
    put_le(b, 0x260, init_size, 4);
    for (size_t i = 0; i < kernel_bytes; ++i) b[setup + i] = static_cast<uint8_t>(i * 7 + 1);
    return b;
  }
};

// An ELF64 laid out like Debian's vmlinux: text at paddr 0x1000000 (vaddr
// 0xffffffff81000000), a PT_NOTE with Linux's and Xen's notes, PHYS32_ENTRY
// as an 8-byte descriptor (arch/x86/platform/pvh/head.S uses _ASM_PTR).
struct PvhElf {
  uint64_t entry = 0x1000850;
  uint32_t desc_size = 8;
  uint64_t desc_high = 0;
  bool with_note = true;
  uint32_t note_type = 18;
  const char* note_name = "Xen";

  std::vector<uint8_t> build() const {
    ElfBuilder e;
    e.entry = 0x1000000;
    e.file_size = 0x3000;
    e.phdrs.push_back({1, 5, 0x1000, 0xffffffff81000000ull, 0x1000000, 0x1000, 0x1000, 0x1000});
    e.phdrs.push_back({1, 6, 0x2000, 0xffffffff81001000ull, 0x1001000, 0x800, 0x2000, 0x1000});
    std::vector<uint8_t> notes;
    auto note = [&](const char* name, uint32_t type, const std::vector<uint8_t>& desc) {
      size_t nl = std::strlen(name) + 1, at = notes.size();
      notes.resize(at + 12 + ((nl + 3) & ~size_t{3}) + ((desc.size() + 3) & ~size_t{3}), 0);
      notes[at] = static_cast<uint8_t>(nl);
      notes[at + 4] = static_cast<uint8_t>(desc.size());
      notes[at + 8] = static_cast<uint8_t>(type);
      std::memcpy(&notes[at + 12], name, nl);
      std::memcpy(&notes[at + 12 + ((nl + 3) & ~size_t{3})], desc.data(), desc.size());
    };
    note("Linux", 6, {'l', 'i', 'n', 'u', 'x', 0});
    note("Xen", 6, {'l', 'i', 'n', 'u', 'x', 0});  // XEN_ELFNOTE_GUEST_OS
    if (with_note) {
      std::vector<uint8_t> d(desc_size, 0);
      for (size_t i = 0; i < desc_size && i < 8; ++i) d[i] = static_cast<uint8_t>((i < 4 ? entry : desc_high) >> (8 * (i % 4)));
      note(note_name, note_type, d);
    }
    e.phdrs.push_back({4, 4, 0x2800, 0, 0, notes.size(), notes.size(), 4});
    std::vector<uint8_t> b = e.build();
    std::memcpy(&b[0x2800], notes.data(), notes.size());
    return b;
  }
};

// An ELF32 i386 executable with a Multiboot1 header (flags: page-align
// modules, memory info) at the start of its text, linked at `base` (1 MiB).
inline std::vector<uint8_t> multiboot_elf32(uint32_t entry = 0x100010, uint16_t machine = 3, uint32_t base = 0x100000) {
  std::vector<uint8_t> b(0x2000, 0);
  b[0] = 0x7f; b[1] = 'E'; b[2] = 'L'; b[3] = 'F'; b[4] = 1; b[5] = 1; b[6] = 1;
  put_le(b, 16, 2, 2); put_le(b, 18, machine, 2); put_le(b, 20, 1, 4);
  put_le(b, 24, entry, 4); put_le(b, 28, 52, 4); put_le(b, 40, 52, 2); put_le(b, 42, 32, 2); put_le(b, 44, 2, 2);
  // text: file 0x1000, paddr base, 0x800 bytes, R+X; data: 0x1800 -> base + 0x1000, bss to 0x3000.
  const uint32_t ph[2][8] = {{1, 0x1000, base, base, 0x800, 0x800, 5, 0x1000},
                             {1, 0x1800, base + 0x1000, base + 0x1000, 0x800, 0x3000, 6, 0x1000}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 8; ++j) put_le(b, 52 + 32 * i + 4 * j, ph[i][j], 4);
  put_le(b, 0x1000, 0x1BADB002, 4);
  put_le(b, 0x1004, 3, 4);
  put_le(b, 0x1008, static_cast<uint32_t>(-(0x1BADB002u + 3u)), 4);
  return b;
}

}  // namespace mamori::test
