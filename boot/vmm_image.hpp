// The VMM image as the loader places it: validated PT_LOAD segments of
// vmm.elf, all within one contiguous span starting at virt_base.
#pragma once
#include <stdint.h>

namespace mamori::loader {

struct VmmSegment {
  uint64_t vaddr, file_offset, file_size, mem_size;
  bool writable, executable;
};

struct VmmImage {
  static constexpr unsigned kMaxSegments = 8;
  VmmSegment segments[kMaxSegments];
  unsigned segment_count = 0;
  uint64_t virt_base = 0;  // lowest segment address, page aligned
  uint64_t span = 0;       // bytes from virt_base to the end of the last segment
  uint64_t entry = 0;
};

// Validates vmm.elf and fills `out`; returns nullptr, or why it is refused.
const char* plan_vmm_image(const uint8_t* file, uint64_t size, VmmImage& out);

}  // namespace mamori::loader
