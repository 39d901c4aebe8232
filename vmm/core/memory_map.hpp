// Normalisation of the firmware memory map handed over in BootInfo.
//
// UEFI (2.9 §7.2, GetMemoryMap) makes no promise that descriptors are sorted
// or disjoint, and real firmware has shipped maps with overlaps. The VMM
// needs one sorted list of disjoint ranges, each with a single type, where
// an overlap resolves to the *most restrictive* of the types involved (RAM
// that any descriptor calls reserved must not be handed out).
//
// The sweep is O(n²) without scratch memory: n is a few hundred at most.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "boot/bootinfo.hpp"

namespace mamori::core {

inline constexpr uint64_t kFrameSize = 4096;
inline constexpr uint64_t kFrameShift = 12;
// Intel SDM Vol. 3A §4.1.4: MAXPHYADDR is at most 52 bits. Descriptors
// beyond that cannot describe real memory; they are clipped (and counted).
inline constexpr uint64_t kMaxPhysEnd = 1ull << 52;

// A physical range [base, base + size).
struct PhysRange {
  uint64_t base;
  uint64_t size;
};

// A normalised region [base, end): sorted, disjoint, adjacent regions of the
// same type merged.
struct PhysRegion {
  uint64_t base;
  uint64_t end;  // exclusive
  boot::MemoryType type;
};

enum class MemoryMapError : uint32_t {
  None = 0,
  NullInput,     // a null pointer with a non-zero count
  OutputFull,    // more normalised regions than the caller's capacity
};

const char* describe(MemoryMapError e);

// Restrictiveness of a type when descriptors overlap: higher wins. Usable is
// the least restrictive; unknown type values rank as Reserved.
uint32_t memory_type_rank(boot::MemoryType t);
const char* memory_type_name(boot::MemoryType t);

struct MemoryMapStats {
  size_t ignored_descriptors;  // zero size or entirely at/above kMaxPhysEnd
  size_t clipped_descriptors;  // partly above kMaxPhysEnd (or base+size wrapped)
};

// Builds the normalised map from the firmware descriptors plus `extra`
// ranges the VMM itself occupies (its image, BootInfo, loaded files, page
// tables), which are treated as MemoryType::Loaded. Holes (no descriptor)
// are not listed. Usable regions are shrunk to whole 4 KiB frames; the bytes
// cut off are dropped (never listed as usable).
MemoryMapError normalize_memory_map(const boot::MemoryRegion* in, size_t in_count,
                                    const PhysRange* extra, size_t extra_count,
                                    PhysRegion* out, size_t out_capacity,
                                    size_t* out_count, MemoryMapStats* stats = nullptr);

}  // namespace mamori::core
