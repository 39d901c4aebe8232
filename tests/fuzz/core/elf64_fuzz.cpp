// Fuzz the ELF64 validator (and the Multiboot1 header parser): any input must be accepted or refused without
// reading outside the buffer; an accepted image must satisfy the promises
// the loader relies on (segments inside the file, no overlap, entry in PF_X).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <vector>

#include "../../unit/core/elf_builder.hpp"
#include "vmm/core/elf64.hpp"
#include "vmm/core/multiboot1.hpp"

using namespace mamori::core;

namespace {
int check(const uint8_t* data, size_t size, const ElfPolicy& p);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ElfPolicy p;
  // Bit 3 of the first byte: overlay the rest of the input on a valid image
  // (from e_type on), so the fuzzer reaches the segment checks quickly
  // instead of having to discover the magic and header sizes first.
  if (size > 0 && (data[0] & 8)) {
    p.allow_dyn = data[0] & 1;
    p.refuse_wx = data[0] & 2;
    p.entry_space = (data[0] & 4) ? ElfEntrySpace::Physical : ElfEntrySpace::Virtual;
    std::vector<uint8_t> img = mamori::test::ElfBuilder::typical().build();
    // Bit 4: keep the header valid and overlay the program headers only.
    const size_t at = (data[0] & 0x10) ? 64 : 16;
    size_t n = size - 1;
    if (n > img.size() - at) n = img.size() - at;
    for (size_t i = 0; i < n; ++i) img[at + i] = data[1 + i];
    return check(img.data(), img.size(), p);
  }
  if (size > 0) {  // let the fuzzer flip policy bits too
    p.allow_dyn = data[0] & 1;
    p.refuse_wx = data[0] & 2;
    p.entry_space = (data[0] & 4) ? ElfEntrySpace::Physical : ElfEntrySpace::Virtual;
  }
  // Guest kernel images go through the Multiboot1 header parser too.
  Multiboot1Header mb;
  if (multiboot1_parse(data, size, mb, data && size ? data[size - 1] : 0) == Multiboot1Error::None &&
      mb.has_addresses) {
    if (mb.file_offset > size || mb.load_size > size - mb.file_offset) abort();
    const uint64_t end = uint64_t{mb.load_addr} + mb.load_size + mb.bss_size;
    if (end > (uint64_t{1} << 32) || mb.entry_addr < mb.load_addr || mb.entry_addr >= end) abort();
  }
  return check(data, size, p);
}

namespace {
int check(const uint8_t* data, size_t size, const ElfPolicy& p) {
  ElfImage img;
  ElfError e = elf64_validate(data, size, p, img);
  if (describe(e) == nullptr) abort();
  if (e != ElfError::None) return 0;
  if (img.segment_count == 0 || img.segment_count > kElfMaxSegments) abort();
  bool entry_ok = false;
  for (size_t i = 0; i < img.segment_count; ++i) {
    const ElfSegment& s = img.segments[i];
    if (s.filesz > s.memsz || (s.filesz && (s.offset > size || s.filesz > size - s.offset))) abort();
    for (size_t j = 0; j < i; ++j) {
      const ElfSegment& o = img.segments[j];
      if (s.vaddr < o.vaddr + o.memsz && o.vaddr < s.vaddr + s.memsz) abort();
    }
    uint64_t base = p.entry_space == ElfEntrySpace::Virtual ? s.vaddr : s.paddr;
    if ((s.flags & kElfPfX) && img.entry >= base && img.entry - base < s.memsz) entry_ok = true;
  }
  if (!entry_ok) abort();
  return 0;
}
}  // namespace
