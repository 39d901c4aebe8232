// Physical frame allocator: see frame_allocator.hpp.
#include "frame_allocator.hpp"

#include <bit>  // std::countr_zero: bsf/tzcnt, no libgcc call

namespace mamori::core {
namespace {

constexpr uint64_t kBitsPerWord = 64;
constexpr uint64_t kLowEndFrame = kLowMemoryEnd >> kFrameShift;

uint64_t words_for(uint64_t frames) { return (frames + kBitsPerWord - 1) / kBitsPerWord; }

// The frames [*first, *end) of a usable region that form its low part
// (part 0, below 1 MiB) or its high part (part 1). Frame 0 is never part of
// a zone. Returns false when that part is empty. Splitting at 1 MiB keeps
// every zone either entirely low or entirely high.
bool zone_part(const PhysRegion& r, int part, uint64_t* first, uint64_t* end) {
  // A caller may pass a map that did not go through normalize_memory_map:
  // refuse what could wrap below.
  if (r.type != boot::MemoryType::Usable || r.base >= r.end || r.end > kMaxPhysEnd) return false;
  uint64_t f = (r.base + kFrameSize - 1) >> kFrameShift;
  uint64_t e = r.end >> kFrameShift;
  if (f == 0) f = 1;
  if (part == 0) {
    if (e > kLowEndFrame) e = kLowEndFrame;
  } else if (f < kLowEndFrame) {
    f = kLowEndFrame;
  }
  *first = f;
  *end = e;
  return f < e;
}

}  // namespace

const char* describe(FrameError e) {
  switch (e) {
    case FrameError::None: return "ok";
    case FrameError::NoUsableMemory: return "memory map has no usable frame";
    case FrameError::BitmapNoRoom: return "no usable region above 1 MiB is large enough for the frame bitmap";
    case FrameError::BitmapUnmapped: return "bitmap memory could not be mapped (phys-to-virt returned null)";
    case FrameError::StorageTooSmall: return "bitmap storage smaller than needed";
    case FrameError::NotInitialized: return "frame allocator not initialised";
    case FrameError::OutOfMemory: return "out of physical memory (no free frame or run of that size and alignment)";
    case FrameError::BadCount: return "run of zero frames requested";
    case FrameError::BadAlignment: return "alignment is not a power-of-two multiple of 4 KiB, or address not aligned";
    case FrameError::NotManaged: return "address is not in allocatable memory";
    case FrameError::NotAllocated: return "frame is already free (double free)";
    case FrameError::BitmapFrame: return "frame holds the allocator's own bitmap";
    case FrameError::MapNotNormalized: return "memory map is not sorted and disjoint (not normalised)";
  }
  return "unknown frame allocator error";
}

uint64_t FrameAllocator::bitmap_words_needed(const PhysRegion* map, size_t count) {
  uint64_t words = 0;
  size_t zones = 0;
  if (map == nullptr) return 0;
  for (size_t i = 0; i < count; ++i)
    for (int part = 0; part < 2; ++part) {
      uint64_t first, end;
      if (zone_part(map[i], part, &first, &end) && zones < kMaxZones) {
        words += words_for(end - first);
        ++zones;
      }
    }
  return words;
}

FrameError FrameAllocator::build_zones(const PhysRegion* map, size_t count) {
  // Field by field: `*this = FrameAllocator{}` would build a 5 KiB temporary
  // on the (small) VMM stack.
  zone_count_ = 0;
  dropped_frames_ = 0;
  bitmap_phys_ = 0;
  bitmap_frames_ = 0;
  ready_ = false;
  if (map == nullptr) return FrameError::NoUsableMemory;
  for (size_t i = 0; i < count; ++i)
    for (int part = 0; part < 2; ++part) {
      uint64_t first, end;
      if (!zone_part(map[i], part, &first, &end)) continue;
      // Overlapping zones would hand the same frame out twice.
      if (zone_count_ > 0 &&
          first < zones_[zone_count_ - 1].first_frame + zones_[zone_count_ - 1].frames) {
        zone_count_ = 0;
        return FrameError::MapNotNormalized;
      }
      if (zone_count_ < kMaxZones)
        zones_[zone_count_++] = Zone{first, end - first, nullptr, 0, 0, part == 0};
      else
        dropped_frames_ += end - first;
    }
  return zone_count_ == 0 ? FrameError::NoUsableMemory : FrameError::None;
}

FrameError FrameAllocator::attach(uint64_t* words, size_t word_count) {
  size_t w = 0;
  for (size_t z = 0; z < zone_count_; ++z) {
    Zone& zone = zones_[z];
    const uint64_t nw = words_for(zone.frames);
    if (nw > word_count - w) return FrameError::StorageTooSmall;
    zone.bits = words + w;
    for (uint64_t i = 0; i < nw; ++i) zone.bits[i] = 0;
    for (uint64_t i = 0; i < zone.frames; ++i) set_free(zone, i);
    zone.free = zone.frames;
    w += nw;
  }
  ready_ = true;
  return FrameError::None;
}

FrameError FrameAllocator::init_with_storage(const PhysRegion* map, size_t count,
                                             uint64_t* words, size_t word_count) {
  if (FrameError e = build_zones(map, count); e != FrameError::None) return e;
  if (words == nullptr || word_count < bitmap_words_needed(map, count)) {
    ready_ = false;
    return FrameError::StorageTooSmall;
  }
  return attach(words, word_count);
}

FrameError FrameAllocator::init(const PhysRegion* map, size_t count, PhysToVirt phys_to_virt,
                                void* ctx) {
  if (FrameError e = build_zones(map, count); e != FrameError::None) return e;
  const uint64_t words = bitmap_words_needed(map, count);
  const uint64_t frames = (words * sizeof(uint64_t) + kFrameSize - 1) >> kFrameShift;
  const Zone* home = nullptr;
  for (size_t z = 0; z < zone_count_ && home == nullptr; ++z)
    if (!zones_[z].low && zones_[z].frames >= frames) home = &zones_[z];
  if (home == nullptr) return FrameError::BitmapNoRoom;
  const uint64_t phys = home->first_frame << kFrameShift;
  void* virt = phys_to_virt ? phys_to_virt(ctx, phys, frames << kFrameShift) : nullptr;
  if (virt == nullptr) return FrameError::BitmapUnmapped;
  // The direct map gives at least 8-byte alignment (the frame is 4 KiB aligned).
  if (FrameError e = attach(static_cast<uint64_t*>(virt), words); e != FrameError::None)
    return e;
  bitmap_phys_ = phys;
  bitmap_frames_ = frames;
  reserve(phys, frames << kFrameShift);
  return FrameError::None;
}

FrameAllocator::Zone* FrameAllocator::find_zone(uint64_t frame) {
  for (size_t z = 0; z < zone_count_; ++z)
    if (frame >= zones_[z].first_frame && frame - zones_[z].first_frame < zones_[z].frames)
      return &zones_[z];
  return nullptr;
}

const FrameAllocator::Zone* FrameAllocator::find_zone(uint64_t frame) const {
  return const_cast<FrameAllocator*>(this)->find_zone(frame);
}

FrameError FrameAllocator::alloc_in(bool low, uint64_t* phys) {
  if (!ready_) return FrameError::NotInitialized;
  for (size_t z = 0; z < zone_count_; ++z) {
    Zone& zone = zones_[z];
    if (zone.low != low || zone.free == 0) continue;
    // Words below `hint` are known to be all used: start there.
    for (uint64_t w = zone.hint; w < words_for(zone.frames); ++w) {
      if (zone.bits[w] == 0) continue;
      zone.hint = w;
      const uint64_t i = w * kBitsPerWord + static_cast<uint64_t>(std::countr_zero(zone.bits[w]));
      set_used(zone, i);
      --zone.free;
      *phys = (zone.first_frame + i) << kFrameShift;
      return FrameError::None;
    }
  }
  return FrameError::OutOfMemory;
}

FrameError FrameAllocator::alloc_frame(uint64_t* phys) { return alloc_in(false, phys); }
FrameError FrameAllocator::alloc_low_frame(uint64_t* phys) { return alloc_in(true, phys); }

FrameError FrameAllocator::alloc_run(uint64_t frames, uint64_t align_bytes, uint64_t* phys) {
  if (!ready_) return FrameError::NotInitialized;
  if (frames == 0) return FrameError::BadCount;
  // Power of two without std::has_single_bit: that may call libgcc's
  // __popcountdi2, which the VMM does not link.
  if (align_bytes < kFrameSize || (align_bytes & (align_bytes - 1)) != 0)
    return FrameError::BadAlignment;
  const uint64_t align = align_bytes >> kFrameShift;  // in frames
  for (size_t z = 0; z < zone_count_; ++z) {
    Zone& zone = zones_[z];
    if (zone.low || zone.free < frames) continue;
    const uint64_t zone_end = zone.first_frame + zone.frames;
    // Candidate first frame: aligned, in the zone; on a used frame inside the
    // candidate run, restart at the next aligned frame after it.
    uint64_t start = (zone.first_frame + align - 1) & ~(align - 1);
    while (start >= zone.first_frame && start < zone_end && frames <= zone_end - start) {
      uint64_t used_at = UINT64_MAX;
      for (uint64_t f = start; f < start + frames; ++f)
        if (!test(zone, f - zone.first_frame)) {
          used_at = f;
          break;
        }
      if (used_at == UINT64_MAX) {
        for (uint64_t f = start; f < start + frames; ++f) set_used(zone, f - zone.first_frame);
        zone.free -= frames;
        *phys = start << kFrameShift;
        return FrameError::None;
      }
      start = (used_at + align) & ~(align - 1);
    }
  }
  return FrameError::OutOfMemory;
}

FrameError FrameAllocator::free_run(uint64_t phys, uint64_t frames) {
  if (!ready_) return FrameError::NotInitialized;
  if (frames == 0) return FrameError::BadCount;
  if (phys & (kFrameSize - 1)) return FrameError::BadAlignment;
  const uint64_t first = phys >> kFrameShift;
  Zone* zone = find_zone(first);
  if (zone == nullptr || frames > zone->first_frame + zone->frames - first)
    return FrameError::NotManaged;
  // Check everything first so a bad call changes nothing.
  for (uint64_t f = first; f < first + frames; ++f) {
    if (bitmap_frames_ && f >= (bitmap_phys_ >> kFrameShift) &&
        f < (bitmap_phys_ >> kFrameShift) + bitmap_frames_)
      return FrameError::BitmapFrame;
    if (test(*zone, f - zone->first_frame)) return FrameError::NotAllocated;
  }
  for (uint64_t f = first; f < first + frames; ++f) set_free(*zone, f - zone->first_frame);
  zone->free += frames;
  const uint64_t word = (first - zone->first_frame) / kBitsPerWord;
  if (word < zone->hint) zone->hint = word;
  return FrameError::None;
}

FrameError FrameAllocator::free_frame(uint64_t phys) { return free_run(phys, 1); }

uint64_t FrameAllocator::reserve(uint64_t base, uint64_t size) {
  if (!ready_ || size == 0) return 0;
  const uint64_t first = base >> kFrameShift;
  const uint64_t last = (size - 1 > UINT64_MAX - base ? UINT64_MAX : base + size - 1) >> kFrameShift;
  uint64_t changed = 0;
  for (size_t z = 0; z < zone_count_; ++z) {
    Zone& zone = zones_[z];
    const uint64_t lo = first > zone.first_frame ? first : zone.first_frame;
    const uint64_t zone_last = zone.first_frame + zone.frames - 1;
    const uint64_t hi = last < zone_last ? last : zone_last;
    for (uint64_t f = lo; f <= hi && lo <= hi; ++f) {
      if (test(zone, f - zone.first_frame)) {
        set_used(zone, f - zone.first_frame);
        --zone.free;
        ++changed;
      }
    }
  }
  return changed;
}

bool FrameAllocator::is_managed(uint64_t phys) const {
  return ready_ && find_zone(phys >> kFrameShift) != nullptr;
}

bool FrameAllocator::is_free(uint64_t phys) const {
  if (!ready_) return false;
  const uint64_t f = phys >> kFrameShift;
  const Zone* zone = find_zone(f);
  return zone != nullptr && test(*zone, f - zone->first_frame);
}

FrameStats FrameAllocator::stats() const {
  FrameStats s{};
  s.dropped_frames = dropped_frames_;
  s.bitmap_frames = bitmap_frames_;
  if (!ready_) return s;
  s.zone_count = zone_count_;
  for (size_t z = 0; z < zone_count_; ++z) {
    s.total_frames += zones_[z].frames;
    s.free_frames += zones_[z].free;
    if (zones_[z].low) {
      s.low_total_frames += zones_[z].frames;
      s.low_free_frames += zones_[z].free;
    }
  }
  s.used_frames = s.total_frames - s.free_frames;
  return s;
}

}  // namespace mamori::core
