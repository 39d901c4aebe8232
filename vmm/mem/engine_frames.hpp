// The page-table engine's frame source (ept::FrameAllocator) over the
// VMM's frame allocator, for tables the VMM reaches through its identity
// map: guests' EPTs and service-partition page tables.
#pragma once
#include "ept/ept.hpp"
#include "vmm/mem/frames.hpp"

namespace mamori::mem {

class EngineFrames final : public ept::FrameAllocator {
 public:
  uint64_t alloc_zeroed_frame() override {
    uint64_t p = alloc_frame();
    return p ? p : ept::kNoFrame;
  }
  void free_frame(uint64_t phys) override { mem::free_frame(phys); }
  uint64_t* table(uint64_t phys) override { return phys_to_virt<uint64_t>(phys); }
};

}  // namespace mamori::mem
