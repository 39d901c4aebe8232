// Physical frame allocator over the normalised memory map.
//
// One bitmap per usable zone (bit set = frame free), so a sparse map (RAM at
// 0 and at 1 TiB) costs only what it holds. The bitmap either lives in
// storage the caller passes, or is carved out of usable memory itself: the
// allocator picks the frames and asks the caller's phys→virt function for a
// pointer to them (the VMM's direct map; a host buffer in tests).
//
// Policy:
//  - only MemoryType::Usable frames are managed; everything else never is;
//  - frame 0 is never managed (a null physical address must stay invalid);
//  - frames below 1 MiB form separate "low" zones, handed out only by
//    alloc_low_frame() (the AP trampoline: the SIPI vector addresses a
//    4 KiB page below 1 MiB, Intel SDM Vol. 3A §10.4.4.1 / §8.4.4.1 MP init);
//  - every other allocation comes from ≥ 1 MiB.
// Not thread-safe: the VMM takes its own lock around calls.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "memory_map.hpp"

namespace mamori::core {

inline constexpr uint64_t kLowMemoryEnd = 1ull << 20;  // 1 MiB

enum class FrameError : uint32_t {
  None = 0,
  NoUsableMemory,     // init: the map has no usable frame at all
  BitmapNoRoom,       // init: no usable zone ≥ 1 MiB can hold the bitmap
  BitmapUnmapped,     // init: the phys→virt function returned null
  StorageTooSmall,    // init_with_storage: fewer words than bitmap_words_needed()
  NotInitialized,     // called before a successful init
  OutOfMemory,        // no free frame / no free run of that size and alignment
  BadCount,           // run of 0 frames
  BadAlignment,       // alignment not a power of two multiple of 4 KiB, or address unaligned
  NotManaged,         // address not in a usable zone
  NotAllocated,       // freeing a frame that is free (double free)
  BitmapFrame,        // freeing a frame that holds the allocator's own bitmap
  MapNotNormalized,   // init: usable regions not sorted and disjoint (use normalize_memory_map)
};

const char* describe(FrameError e);

struct FrameStats {
  uint64_t total_frames;   // managed frames (low + high), incl. the bitmap's
  uint64_t free_frames;
  uint64_t used_frames;    // total - free
  uint64_t low_total_frames;
  uint64_t low_free_frames;
  uint64_t bitmap_frames;  // frames carved for the bitmap (0 with caller storage)
  uint64_t dropped_frames; // usable frames not managed: zone table full
  size_t zone_count;
};

class FrameAllocator {
 public:
  static constexpr size_t kMaxZones = 128;
  using PhysToVirt = void* (*)(void* ctx, uint64_t phys, uint64_t bytes);

  // `map` must be normalize_memory_map() output (sorted, disjoint).
  // Bitmap size for `map` in 64-bit words (what init_with_storage needs).
  static uint64_t bitmap_words_needed(const PhysRegion* map, size_t count);

  // Bitmap carved from the lowest usable zone ≥ 1 MiB that can hold it.
  FrameError init(const PhysRegion* map, size_t count, PhysToVirt phys_to_virt, void* ctx);
  // Bitmap in caller storage (static array in the VMM, or tests).
  FrameError init_with_storage(const PhysRegion* map, size_t count, uint64_t* words,
                               size_t word_count);

  // Each returns None and writes the physical address, or an error.
  FrameError alloc_frame(uint64_t* phys);                // ≥ 1 MiB
  FrameError alloc_low_frame(uint64_t* phys);            // (0, 1 MiB)
  // `frames` contiguous frames, first at a multiple of `align_bytes`
  // (power of two, ≥ 4 KiB; e.g. 2 MiB for a large guest page).
  FrameError alloc_run(uint64_t frames, uint64_t align_bytes, uint64_t* phys);

  FrameError free_frame(uint64_t phys);
  FrameError free_run(uint64_t phys, uint64_t frames);  // all-or-nothing
  // Marks every managed free frame overlapping [base, base+size) used;
  // returns how many changed state. For ranges found after init.
  uint64_t reserve(uint64_t base, uint64_t size);

  bool is_managed(uint64_t phys) const;
  bool is_free(uint64_t phys) const;
  FrameStats stats() const;
  uint64_t bitmap_phys() const { return bitmap_phys_; }  // 0 with caller storage

 private:
  struct Zone {
    uint64_t first_frame;  // frame number
    uint64_t frames;
    uint64_t* bits;        // bit set = free
    uint64_t free;
    uint64_t hint;         // word index: every word below it has no free frame
    bool low;
  };

  FrameError build_zones(const PhysRegion* map, size_t count);
  FrameError attach(uint64_t* words, size_t word_count);
  Zone* find_zone(uint64_t frame);
  const Zone* find_zone(uint64_t frame) const;
  FrameError alloc_in(bool low, uint64_t* phys);
  static bool test(const Zone& z, uint64_t i) { return (z.bits[i / 64] >> (i % 64)) & 1; }
  static void set_free(Zone& z, uint64_t i) { z.bits[i / 64] |= 1ull << (i % 64); }
  static void set_used(Zone& z, uint64_t i) { z.bits[i / 64] &= ~(1ull << (i % 64)); }

  Zone zones_[kMaxZones] = {};
  size_t zone_count_ = 0;
  uint64_t dropped_frames_ = 0;
  uint64_t bitmap_phys_ = 0;
  uint64_t bitmap_frames_ = 0;
  bool ready_ = false;
};

}  // namespace mamori::core
