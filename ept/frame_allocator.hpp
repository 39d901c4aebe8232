// Where paging-structure frames come from. The engine owns no memory: the
// VMM implements this over its physical frame allocator and direct map, the
// host tests over an arena. A paging structure is one 4 KiB-aligned frame of
// 512 64-bit entries (SDM 3A §4.5.1, 3C §29.3.2).
#pragma once

#include <stdint.h>

namespace mamori::ept {

inline constexpr uint64_t kNoFrame = ~uint64_t{0};

class FrameAllocator {
 public:
  // A zero-filled, 4 KiB-aligned frame; its physical address, or kNoFrame.
  // Zero matters: a zero entry is "not present" in both formats (the engine
  // clears the frame again before use, so a slip here cannot leak mappings).
  virtual uint64_t alloc_zeroed_frame() = 0;

  // Give back a frame from alloc_zeroed_frame(). The engine frees a table
  // as soon as it unlinks it; the processor may still hold it in its
  // paging-structure caches until the caller invalidates (Result::flush).
  // A VMM running guests on several CPUs should therefore queue frees and
  // release them only after the INVEPT/TLB shootdown.
  virtual void free_frame(uint64_t phys) = 0;

  // Where the engine can read and write the frame at `phys`
  // (e.g. direct-map base + phys in the VMM). nullptr for a frame just
  // allocated makes the engine refuse it (Status::bad_frame).
  virtual uint64_t* table(uint64_t phys) = 0;

 protected:
  ~FrameAllocator() = default;
};

}  // namespace mamori::ept
