// The loader's page tables: the VMM's first address space (docs/boot.md).
//
//   identity map 0 .. max(4 GiB, top of the memory map), 2 MiB pages,
//     read/write, no-execute (the VMM reaches physical memory through it)
//   the VMM image at its link address, 4 KiB pages, permissions from the
//     ELF segment flags (W^X: a segment both W and X is refused earlier)
//   one identity page read+execute: the handoff stub
// All table frames lie below 4 GiB so 32-bit AP start-up code can load CR3.
#pragma once
#include <stdint.h>

namespace mamori::loader {

struct PageTableBuilder {
  uint64_t pml4 = 0;  // physical; 0 until init() succeeded

  // Allocates tables; returns false (with a message printed) on failure.
  bool init(uint64_t identity_top);
  // Maps [virt, virt+size) -> [phys, ...) with 4 KiB pages.
  bool map_4k(uint64_t virt, uint64_t phys, uint64_t size, bool writable, bool executable);
};

}  // namespace mamori::loader
