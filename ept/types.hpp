// Vocabulary shared by the page-table engine and its two entry formats
// (EPT, SDM Vol. 3C §29.3; x86-64 4-level paging, SDM Vol. 3A §4.5).
#pragma once

#include <stdint.h>

namespace mamori::ept {

// Paging-structure levels of a 4-level walk. Level 0 holds 4 KiB leaves; a
// leaf at level 1 maps 2 MiB and at level 2 maps 1 GiB (SDM 3A §4.5.4,
// 3C §29.3.2). Level 3 (PML4) never holds a leaf.
inline constexpr unsigned kLevels = 4;
inline constexpr unsigned kTopLevel = kLevels - 1;
inline constexpr unsigned kPageShift = 12;
inline constexpr unsigned kIndexBits = 9;
inline constexpr unsigned kEntriesPerTable = 1u << kIndexBits;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;   // 4 KiB
inline constexpr uint64_t kPageMask = kPageSize - 1;
inline constexpr unsigned kLinearBits = kPageShift + kLevels * kIndexBits;   // 48
inline constexpr uint64_t kLinearSpan = uint64_t{1} << kLinearBits;
inline constexpr unsigned kMaxPhysBits = 52;   // architectural MAXPHYADDR limit

constexpr unsigned level_shift(unsigned level) { return kPageShift + level * kIndexBits; }
constexpr uint64_t level_size(unsigned level) { return uint64_t{1} << level_shift(level); }
inline constexpr uint64_t kSize4K = level_size(0);
inline constexpr uint64_t kSize2M = level_size(1);
inline constexpr uint64_t kSize1G = level_size(2);

// Memory types. The numeric values are the encodings shared by the EPT
// memory-type field (SDM 3C §29.3.7, §29.3.2 "Format of an EPT
// Page-Table Entry" bits 5:3) and the PAT entry encoding (SDM 3A §11.12.2,
// "PAT Memory Types"), so no translation table is needed for either format.
enum class MemType : uint8_t {
  uc = 0,   // uncacheable: MMIO
  wc = 1,   // write combining
  wt = 4,   // write through
  wp = 5,   // write protected
  wb = 6,   // write back: RAM
};

constexpr bool is_valid_memtype(uint8_t raw) {
  return raw == 0 || raw == 1 || raw == 4 || raw == 5 || raw == 6;
}

// Access rights of a mapping. read/write/exec exist in both formats;
// user (U/S) and global (G) only in the VMM's own tables (SDM 3A §4.6,
// §4.10.2.4). A format refuses bits it cannot express.
enum class Perm : uint8_t {
  none = 0,
  read = 1u << 0,
  write = 1u << 1,
  exec = 1u << 2,
  user = 1u << 3,
  global = 1u << 4,
};

constexpr Perm operator|(Perm a, Perm b) {
  return static_cast<Perm>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
constexpr Perm operator&(Perm a, Perm b) {
  return static_cast<Perm>(static_cast<uint8_t>(a) & static_cast<uint8_t>(b));
}
constexpr bool has(Perm set, Perm bits) { return (set & bits) == bits && bits != Perm::none; }
constexpr bool any(Perm set) { return set != Perm::none; }

inline constexpr Perm kR = Perm::read;
inline constexpr Perm kRW = Perm::read | Perm::write;
inline constexpr Perm kRX = Perm::read | Perm::exec;
inline constexpr Perm kRWX = Perm::read | Perm::write | Perm::exec;

// What a leaf says about the page it maps, independent of the page size.
// ignore_pat is EPT bit 6 (SDM 3C §29.3.7): take the EPT memory type
// as-is instead of combining it with the guest's PAT.
struct Attr {
  Perm perm = Perm::none;
  MemType type = MemType::wb;
  bool ignore_pat = false;

  constexpr bool operator==(const Attr&) const = default;
};

// What the CPU supports and which policy the owner wants. Fill the EPT one
// from IA32_VMX_EPT_VPID_CAP (see ept_format.hpp: ept_options()).
struct Options {
  bool page_2m = true;       // EPT: EPT_VPID_CAP bit 16; paging: always in IA-32e mode
  bool page_1g = false;      // EPT: EPT_VPID_CAP bit 17; paging: CPUID.80000001H:EDX[26]
  bool exec_only = false;    // EPT: EPT_VPID_CAP bit 0 (execute-only translations allowed)
  bool enforce_wx = false;   // refuse any mapping that is both writable and executable
  bool defer_merge = false;  // map/unmap/protect do not merge; the caller calls merge() after its flush
  unsigned phys_bits = kMaxPhysBits;   // MAXPHYADDR: CPUID.80000008H:EAX[7:0]
};

enum class Status : uint8_t {
  ok = 0,
  unaligned,      // va, pa or length not a multiple of 4 KiB
  bad_range,      // wraps, leaves the translated address space, or pa beyond MAXPHYADDR
  bad_attr,       // not expressible or a misconfiguration in this format
  wx_violation,   // writable+executable with Options::enforce_wx
  no_memory,      // the frame allocator ran dry; nothing was changed
  bad_frame,      // the allocator returned a frame that is not 4 KiB aligned / addressable
  not_initialized,
};

constexpr const char* to_string(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::unaligned: return "unaligned";
    case Status::bad_range: return "bad range";
    case Status::bad_attr: return "bad attributes";
    case Status::wx_violation: return "W^X violation";
    case Status::no_memory: return "out of table frames";
    case Status::bad_frame: return "bad frame from allocator";
    case Status::not_initialized: return "not initialized";
  }
  return "?";
}

// Outcome of map/unmap/protect. `flush` is set whenever an entry that the
// processor may have cached (a present entry, leaf or table pointer) was
// changed or removed: the caller must then invalidate (INVEPT for EPT,
// SDM 3C §29.4.3.1; INVLPG / CR3 reload for paging, SDM 3A §4.10.4.1)
// before the guest/VMM relies on the new mapping and before frames freed by
// this call are reused. Turning a not-present entry present needs no flush:
// a fault or EPT violation already invalidates the stale "not present" view
// (SDM 3A §4.10.4.3, 3C §29.4.3.1). `flush` may be set on failure too
// (a split that was rolled back touched present entries).
struct [[nodiscard]] Result {
  Status status = Status::ok;
  bool flush = false;
  constexpr bool ok() const { return status == Status::ok; }
};

// lookup(): the translation of one address.
struct Translation {
  bool present = false;
  uint64_t phys = 0;        // translation of the queried address
  uint64_t page_phys = 0;   // physical base of the page that maps it
  uint64_t page_size = 0;   // 4 KiB, 2 MiB or 1 GiB
  unsigned level = 0;       // level of the leaf (0 = 4 KiB)
  Attr attr{};
};

// for_each_leaf(): one leaf of the tree.
struct Leaf {
  uint64_t va = 0;     // first address the leaf maps (canonical for host tables)
  uint64_t phys = 0;
  uint64_t size = 0;   // 4 KiB, 2 MiB or 1 GiB
  unsigned level = 0;
  Attr attr{};
};

}  // namespace mamori::ept
