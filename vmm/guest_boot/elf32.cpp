#include "vmm/guest_boot/elf32.hpp"

#include "vmm/guest_boot/bytes.hpp"
#include "vmm/guest_boot/layout.hpp"

namespace mamori::vmm::guest_boot {

const char* describe(Elf32Error e) {
  switch (e) {
    case Elf32Error::None: return "no error";
    case Elf32Error::NullBuffer: return "no data";
    case Elf32Error::TooSmall: return "shorter than an ELF32 header";
    case Elf32Error::BadMagic: return "not an ELF file";
    case Elf32Error::NotElf32: return "not a 32-bit ELF";
    case Elf32Error::NotLittleEndian: return "not little-endian";
    case Elf32Error::BadVersion: return "unknown ELF version";
    case Elf32Error::NotI386: return "not an ELF for i386";
    case Elf32Error::NotExecutable: return "not an executable (ET_EXEC)";
    case Elf32Error::BadPhentsize: return "program header size is not 32";
    case Elf32Error::NoProgramHeaders: return "no program headers";
    case Elf32Error::PhdrTableOutOfFile: return "program header table past the end of the file";
    case Elf32Error::TooManyLoadSegments: return "more than 16 PT_LOAD segments";
    case Elf32Error::NoLoadSegments: return "no PT_LOAD segment";
    case Elf32Error::FileszExceedsMemsz: return "a segment's p_filesz exceeds its p_memsz";
    case Elf32Error::SegmentOutOfFile: return "a segment's bytes run past the end of the file";
    case Elf32Error::AddressOverflow: return "a segment ends beyond 4 GiB";
    case Elf32Error::OutsidePhysicalRange: return "a segment lies outside the guest's loadable RAM";
    case Elf32Error::PhysicalOverlap: return "two segments overlap in physical memory";
    case Elf32Error::EntryNotExecutable: return "the entry point is not inside an executable segment";
  }
  return "unknown ELF32 error";
}

Elf32Error elf32_validate(const uint8_t* d, size_t size, uint64_t min_paddr, uint64_t max_paddr,
                          core::ElfImage& out) {
  out = core::ElfImage{};
  out.bad_index = SIZE_MAX;
  if (!d) return Elf32Error::NullBuffer;
  if (size < 52) return Elf32Error::TooSmall;
  if (d[0] != 0x7f || d[1] != 'E' || d[2] != 'L' || d[3] != 'F') return Elf32Error::BadMagic;
  if (d[4] != 1) return Elf32Error::NotElf32;
  if (d[5] != 1) return Elf32Error::NotLittleEndian;
  if (d[6] != 1 || le32(d + 20) != 1) return Elf32Error::BadVersion;
  if (le16(d + 18) != 3) return Elf32Error::NotI386;
  if (le16(d + 16) != core::kElfTypeExec) return Elf32Error::NotExecutable;
  uint32_t entry = le32(d + 24), phoff = le32(d + 28);
  uint16_t phentsize = le16(d + 42), phnum = le16(d + 44);
  if (phnum == 0 || phoff == 0) return Elf32Error::NoProgramHeaders;
  if (phentsize != 32) return Elf32Error::BadPhentsize;
  if (phoff > size || static_cast<uint64_t>(phnum) * 32 > size - phoff) return Elf32Error::PhdrTableOutOfFile;
  out.type = core::kElfTypeExec;
  out.entry = entry;
  out.phoff = phoff;
  out.phnum = phnum;
  out.paddr_low = out.vaddr_low = UINT64_MAX;
  for (size_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = d + phoff + 32 * i;
    if (le32(ph) != 1) continue;  // PT_LOAD
    uint64_t off = le32(ph + 4), vaddr = le32(ph + 8), paddr = le32(ph + 12), filesz = le32(ph + 16),
             memsz = le32(ph + 20);
    uint32_t flags = le32(ph + 24), align = le32(ph + 28);
    out.bad_index = i;
    if (memsz == 0) continue;  // nothing to load
    if (out.segment_count == core::kElfMaxSegments) return Elf32Error::TooManyLoadSegments;
    if (filesz > memsz) return Elf32Error::FileszExceedsMemsz;
    if (off > size || filesz > size - off) return Elf32Error::SegmentOutOfFile;
    if (paddr + memsz > k4G) return Elf32Error::AddressOverflow;
    if (paddr < min_paddr || paddr + memsz > max_paddr) return Elf32Error::OutsidePhysicalRange;
    for (size_t j = 0; j < out.segment_count; ++j)
      if (overlaps(paddr, memsz, out.segments[j].paddr, out.segments[j].memsz)) return Elf32Error::PhysicalOverlap;
    out.segments[out.segment_count++] = core::ElfSegment{vaddr, paddr, off, filesz, memsz, align, flags};
    if (paddr < out.paddr_low) out.paddr_low = paddr;
    if (paddr + memsz > out.paddr_high) out.paddr_high = paddr + memsz;
    if (vaddr < out.vaddr_low) out.vaddr_low = vaddr;
    if (vaddr + memsz > out.vaddr_high) out.vaddr_high = vaddr + memsz;
    out.total_memsz += memsz;
    if ((flags & core::kElfPfW) && (flags & core::kElfPfX)) ++out.wx_segment_count;
  }
  out.bad_index = SIZE_MAX;
  if (out.segment_count == 0) return Elf32Error::NoLoadSegments;
  for (size_t j = 0; j < out.segment_count; ++j) {
    const core::ElfSegment& s = out.segments[j];
    if ((s.flags & core::kElfPfX) && entry >= s.paddr && entry - s.paddr < s.memsz) return Elf32Error::None;
  }
  return Elf32Error::EntryNotExecutable;
}

}  // namespace mamori::vmm::guest_boot
