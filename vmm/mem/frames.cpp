#include "frames.hpp"
#include "vmm/core/frame_allocator.hpp"
#include "vmm/core/memory_map.hpp"
#include "vmm/lib/spinlock.hpp"
#include "vmm/log.hpp"

extern "C" char __image_start[], __image_end[], __rodata_end[];

namespace mamori::mem {
namespace {
constexpr size_t kMaxRegions = 512;
core::PhysRegion g_regions[kMaxRegions];
size_t g_region_count;
core::FrameAllocator g_alloc;
lib::Spinlock g_lock;
uint64_t g_image_bytes;

void* identity(void*, uint64_t phys, uint64_t) { return reinterpret_cast<void*>(phys); }

void zero_frames(uint64_t phys, uint64_t count) { __builtin_memset(phys_to_virt<void>(phys), 0, count * kFrameSize); }
}  // namespace

bool init(const boot::BootInfo& bi) {
  // Everything the loader placed is EfiLoaderData (-> Loaded) already; the
  // VMM image is named again explicitly in case a loader ever differs.
  core::PhysRange extra[] = {{bi.vmm_phys_base, bi.vmm_phys_size}};
  core::MemoryMapStats st{};
  core::MemoryMapError e = core::normalize_memory_map(reinterpret_cast<const boot::MemoryRegion*>(bi.memory_map),
                                                      bi.memory_map_count, extra, 1, g_regions, kMaxRegions,
                                                      &g_region_count, &st);
  if (e != core::MemoryMapError::None) {
    LOG_ERROR("mem: memory map refused: %s", core::describe(e));
    return false;
  }
  if (st.ignored_descriptors || st.clipped_descriptors)
    LOG_WARN("mem: %zu descriptors ignored, %zu clipped (beyond 52-bit physical addresses)", st.ignored_descriptors,
             st.clipped_descriptors);
  core::FrameError fe = g_alloc.init(g_regions, g_region_count, identity, nullptr);
  if (fe != core::FrameError::None) {
    LOG_ERROR("mem: frame allocator: %s", core::describe(fe));
    return false;
  }
  g_image_bytes = static_cast<uint64_t>(__image_end - __image_start);
  core::FrameStats s = g_alloc.stats();
  LOG_INFO("mem: %zu regions, %lu MiB usable, %lu frames free, bitmap %lu frames", g_region_count,
           s.total_frames * kFrameSize >> 20, s.free_frames, s.bitmap_frames);
  return true;
}

uint64_t alloc_frame() {
  uint64_t p = 0;
  {
    lib::LockGuard g(g_lock);
    if (g_alloc.alloc_frame(&p) != core::FrameError::None) return 0;
  }
  zero_frames(p, 1);
  return p;
}

uint64_t alloc_frames(uint64_t count, uint64_t align_frames) {
  uint64_t p = 0;
  {
    lib::LockGuard g(g_lock);
    if (g_alloc.alloc_run(count, (align_frames ? align_frames : 1) * kFrameSize, &p) != core::FrameError::None)
      return 0;
  }
  zero_frames(p, count);
  return p;
}

uint64_t alloc_frame_below_1m() {
  uint64_t p = 0;
  lib::LockGuard g(g_lock);
  if (g_alloc.alloc_low_frame(&p) != core::FrameError::None) return 0;
  return p;
}

void free_frame(uint64_t phys) {
  lib::LockGuard g(g_lock);
  core::FrameError e = g_alloc.free_frame(phys);
  if (e != core::FrameError::None) LOG_ERROR("mem: free_frame(0x%lx): %s", phys, core::describe(e));
}

Stats stats() {
  lib::LockGuard g(g_lock);
  core::FrameStats s = g_alloc.stats();
  return Stats{s.total_frames, s.free_frames, s.used_frames, g_image_bytes,
               static_cast<uint64_t>(__image_end - __rodata_end)};
}

const core::PhysRegion* regions(size_t& count) {
  count = g_region_count;
  return g_regions;
}

}  // namespace mamori::mem
