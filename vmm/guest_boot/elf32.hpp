// Load plan of a 32-bit ELF (ELFCLASS32, EM_386, ET_EXEC) kernel, as
// Multiboot kernels are usually linked: System V gABI "ELF header" and
// "Program header" (32-bit layouts). The result uses the same
// core::ElfImage as the ELF64 validator, so the loader copies both alike.
// Physical addresses are what a Multiboot loader loads to (paging is off
// at entry, Multiboot 0.6.96 §3.1.3), so the checks are on p_paddr and
// the entry must lie in an executable segment's physical range.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/core/elf64.hpp"

namespace mamori::vmm::guest_boot {

enum class Elf32Error : uint32_t {
  None = 0,
  NullBuffer,
  TooSmall,             // shorter than the 52-byte header
  BadMagic,
  NotElf32,             // EI_CLASS != ELFCLASS32
  NotLittleEndian,
  BadVersion,
  NotI386,              // e_machine != EM_386
  NotExecutable,        // e_type != ET_EXEC
  BadPhentsize,         // e_phentsize != 32
  NoProgramHeaders,
  PhdrTableOutOfFile,
  TooManyLoadSegments,  // more than core::kElfMaxSegments
  NoLoadSegments,
  FileszExceedsMemsz,
  SegmentOutOfFile,
  AddressOverflow,      // p_paddr + p_memsz beyond 4 GiB
  OutsidePhysicalRange, // outside [min_paddr, max_paddr)
  PhysicalOverlap,
  EntryNotExecutable,
};
const char* describe(Elf32Error e);

Elf32Error elf32_validate(const uint8_t* data, size_t size, uint64_t min_paddr, uint64_t max_paddr,
                          core::ElfImage& out);

}  // namespace mamori::vmm::guest_boot
