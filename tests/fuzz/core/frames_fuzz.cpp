// Fuzz memory map normalisation and the frame allocator together: the input
// is a map (unsorted, overlapping, any types) followed by a list of
// operations. A shadow set of allocated frames checks that no frame is
// handed out twice, that everything handed out is usable in every input
// descriptor that covers it, and that frees are accepted exactly when valid.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <set>
#include <vector>

#include "boot/bootinfo.hpp"
#include "vmm/core/frame_allocator.hpp"
#include "vmm/core/memory_map.hpp"

using namespace mamori::core;
using mamori::boot::MemoryRegion;
using mamori::boot::MemoryType;

namespace {

struct Input {
  const uint8_t* p;
  size_t n;
  bool take(void* dst, size_t len) {
    if (len > n) return false;
    for (size_t i = 0; i < len; ++i) static_cast<uint8_t*>(dst)[i] = p[i];
    p += len;
    n -= len;
    return true;
  }
};

bool in_nonusable(const std::vector<MemoryRegion>& in, uint64_t frame_phys) {
  for (const MemoryRegion& r : in)
    if (r.type != MemoryType::Usable && frame_phys < r.base + r.size &&
        r.base < frame_phys + kFrameSize)
      return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  uint8_t count = 0;
  if (!in.take(&count, 1)) return 0;
  std::vector<MemoryRegion> regions;
  for (int i = 0; i < count % 24; ++i) {
    uint32_t base_frames = 0, size_bytes = 0;
    uint8_t type = 0;
    if (!in.take(&base_frames, 3) || !in.take(&size_bytes, 3) || !in.take(&type, 1)) break;
    // Up to 64 GiB of address space, regions up to 16 MiB, unaligned sizes.
    regions.push_back(MemoryRegion{uint64_t{base_frames} << 12, uint64_t{size_bytes} << 4,
                                   static_cast<MemoryType>(type % 11), 0, 0});
  }
  PhysRegion map[64];
  size_t n = 0;
  if (normalize_memory_map(regions.data(), regions.size(), nullptr, 0, map, 64, &n) !=
      MemoryMapError::None)
    return 0;
  for (size_t i = 1; i < n; ++i)
    if (map[i - 1].end > map[i].base) abort();  // sorted, disjoint

  static FrameAllocator fa;
  std::vector<uint64_t> words(FrameAllocator::bitmap_words_needed(map, n) + 1);
  if (fa.init_with_storage(map, n, words.data(), words.size()) != FrameError::None) return 0;
  const uint64_t total = fa.stats().total_frames;

  std::set<uint64_t> held;
  uint8_t op;
  while (in.take(&op, 1)) {
    uint64_t p = 0;
    switch (op % 5) {
      case 0:
      case 1: {
        const bool low = op % 5 == 1;
        FrameError e = low ? fa.alloc_low_frame(&p) : fa.alloc_frame(&p);
        if (e != FrameError::None) break;
        if (p == 0 || (low ? p >= kLowMemoryEnd : p < kLowMemoryEnd)) abort();
        if (!held.insert(p).second || in_nonusable(regions, p)) abort();
        break;
      }
      case 2: {
        uint8_t frames = 0, align_log = 0;
        if (!in.take(&frames, 1) || !in.take(&align_log, 1)) break;
        const uint64_t align = uint64_t{1} << (12 + align_log % 10);
        if (fa.alloc_run(frames % 64 + 1, align, &p) != FrameError::None) break;
        if (p % align) abort();
        for (uint64_t f = 0; f < frames % 64 + 1; ++f)
          if (!held.insert(p + f * kFrameSize).second || in_nonusable(regions, p + f * kFrameSize))
            abort();
        break;
      }
      case 3:
        if (!held.empty()) {
          const uint64_t victim = *held.begin();
          if (fa.free_frame(victim) != FrameError::None) abort();
          held.erase(victim);
          if (fa.free_frame(victim) != FrameError::NotAllocated) abort();
        }
        break;
      case 4: {
        uint32_t any = 0;
        if (!in.take(&any, 3)) break;
        const uint64_t a = uint64_t{any} << 12;
        if (held.count(a) == 0 && fa.free_frame(a) == FrameError::None) abort();
        break;
      }
    }
    const FrameStats s = fa.stats();
    if (s.total_frames != total || s.used_frames != held.size() || s.free_frames + s.used_frames != total)
      abort();
  }
  return 0;
}
