// The VMM's physical memory: a facade over the pure frame allocator
// (vmm/core) built from the BootInfo memory map. Frames are reached through
// the identity map the loader built (phys == virt below the high half).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "boot/bootinfo.hpp"

namespace mamori::mem {

inline constexpr uint64_t kFrameSize = 4096;

struct Stats {
  uint64_t total_frames, free_frames, used_frames;
  uint64_t vmm_image_bytes, vmm_static_bytes;  // image span; of it .data+.bss
};

// Builds the allocator; everything the loader placed (Loaded regions) and
// the page tables stay reserved. Returns false with a logged reason.
bool init(const boot::BootInfo& bi);
uint64_t alloc_frame();                              // zeroed; 0 when out of memory
uint64_t alloc_frames(uint64_t count, uint64_t align_frames);  // contiguous, zeroed
uint64_t alloc_frame_below_1m();                     // AP trampoline
void free_frame(uint64_t phys);
Stats stats();
}  // namespace mamori::mem

namespace mamori::core { struct PhysRegion; }
namespace mamori::mem {
// The normalised memory map (for the shell's `mem map`).
const core::PhysRegion* regions(size_t& count);

template <typename T = void>
inline T* phys_to_virt(uint64_t phys) { return reinterpret_cast<T*>(phys); }

}  // namespace mamori::mem
