// The one page-table engine: a 4-level radix tree of 512-entry tables,
// generic over the entry format (EPT, SDM 3C §29.3; IA-32e paging, SDM 3A
// §4.5). Pure: it never touches hardware. It reports through Result::flush
// when the caller must invalidate (INVEPT / INVLPG) and gets all memory from
// a FrameAllocator.
//
// Invariants kept after every operation (tests/unit/ept checks them):
//  * every range is mapped with the largest leaves the alignment of its
//    address, its physical address, its length and Options allow;
//  * no table is empty and no table could be replaced by one larger leaf
//    (512 contiguous, aligned, equal leaves are merged and the table freed)
//    -- with Options::defer_merge, only after merge() over the changed range;
//  * table_pages() == number of tables reachable from the root, root included;
//  * an operation that fails leaves every translation as it was (it first
//    allocates all tables it needs, then changes leaves, then merges).
// Not thread-safe: the owner serializes calls per table.
#pragma once

#include <stdint.h>

#include <concepts>

#include "ept/frame_allocator.hpp"
#include "ept/types.hpp"

namespace mamori::ept {

template <class F>
concept EntryFormat = requires(uint64_t e, uint64_t phys, unsigned level, const Attr& a, const Options& o) {
  { F::kCanonical } -> std::convertible_to<bool>;
  { F::present(e) } -> std::same_as<bool>;
  { F::is_leaf(e, level) } -> std::same_as<bool>;
  { F::table_entry(phys) } -> std::same_as<uint64_t>;
  { F::table_phys(e) } -> std::same_as<uint64_t>;
  { F::leaf_entry(phys, a, level) } -> std::same_as<uint64_t>;
  { F::leaf_phys(e, level) } -> std::same_as<uint64_t>;
  { F::leaf_attr(e, level) } -> std::same_as<Attr>;
  { F::accessed_dirty(e) } -> std::same_as<uint64_t>;
  { F::check(a, o) } -> std::same_as<Status>;
  { F::leaf_allowed(level, o) } -> std::same_as<bool>;
};

template <EntryFormat Format>
class PageTable {
 public:
  // constexpr and a trivial destructor on purpose: the VMM keeps its own
  // tables in a namespace-scope object, which must need neither a run-time
  // constructor (.init_array) nor an exit-time destructor (__cxa_atexit).
  // Owners free the frames with destroy().
  constexpr PageTable(FrameAllocator& frames, const Options& options) : frames_(frames), opt_(options) {}
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // Allocates the root (PML4) table. Call once before anything else.
  Status init();
  // Frees every table, root included. The caller must have stopped using
  // the tables (VMCS EPTP / CR3 switched away, INVEPT done) first.
  void destroy();

  // [va, va+len) -> [pa, pa+len) with `attr`, replacing whatever was there.
  // All three must be 4 KiB multiples.
  Result map(uint64_t va, uint64_t pa, uint64_t len, Attr attr);
  // Removes every translation in [va, va+len); holes are fine.
  Result unmap(uint64_t va, uint64_t len);
  // Sets the access rights of every mapped page in [va, va+len) to `perm`,
  // keeping its frame and memory type; holes stay holes.
  Result protect(uint64_t va, uint64_t len, Perm perm);

  // Page-size changes in two steps, for callers that must never let the
  // processor see a page-size change and an attribute change before one
  // invalidation (SDM 3A §4.10.4 "Invalidation of TLBs and Paging-Structure
  // Caches": TLB entries of several sizes may coexist for one address; on
  // some CPUs conflicting ones for instruction fetch cause a machine check,
  // the "iTLB multihit" erratum). With Options::defer_merge:
  //   split(r) -> flush -> protect/unmap(r) -> flush -> merge(r) -> flush
  // split() only breaks the large leaves that straddle the ends of [va,
  // va+len) into equal smaller ones (no translation changes); merge() merges
  // uniform tables in the range (and frees empty ones). Without
  // defer_merge, map/unmap/protect do both themselves and merge() finds
  // nothing to do.
  Result split(uint64_t va, uint64_t len);
  Result merge(uint64_t va, uint64_t len);

  Translation lookup(uint64_t va) const;

  // Calls fn(const Leaf&) for every leaf that maps part of [va, va+len), in
  // address order; each leaf is reported whole (it may start before va).
  // For the console's memory dumps and the bench. Returns the status of the
  // range check (unaligned / bad_range) or ok.
  template <class Fn>
  Status for_each_leaf(uint64_t va, uint64_t len, Fn&& fn) const;

  uint64_t table_pages() const { return table_pages_; }
  uint64_t root_phys() const { return root_; }
  bool initialized() const { return root_ != kNoFrame; }
  const Options& options() const { return opt_; }

 private:
  template <class Fn>
  void leaves_in(uint64_t table, unsigned level, uint64_t s, uint64_t t, uint64_t sign, Fn& fn) const;

  enum class Kind : uint8_t { map, unmap, protect, split };
  struct Op {
    Kind kind;
    uint64_t start;   // linear (48-bit) range [start, end)
    uint64_t end;
    uint64_t pa;      // pa of `start` (map)
    Attr attr;        // map: full attributes; protect: only perm used
  };

  Result run(const Op& op);
  bool to_linear(uint64_t va, uint64_t len, uint64_t& start, uint64_t& end) const;
  bool handled_here(const Op& op, unsigned level, uint64_t e_start, uint64_t e_end) const;

  Status prepare(const Op& op, uint64_t table, unsigned level, uint64_t s, uint64_t t, bool& flush);
  void apply(const Op& op, uint64_t table, unsigned level, uint64_t s, uint64_t t, bool& flush);
  void collapse(uint64_t table, unsigned level, uint64_t s, uint64_t t, bool merge_uniform, bool& flush);
  bool mergeable(uint64_t child, unsigned child_level, uint64_t& leaf) const;
  bool all_empty(uint64_t child) const;
  void free_subtree(uint64_t table, unsigned level);

  Status new_table(uint64_t& phys);
  void free_table(uint64_t phys);
  uint64_t load(uint64_t table, unsigned index) const;
  void store(uint64_t table, unsigned index, uint64_t entry);

  FrameAllocator& frames_;
  Options opt_;
  uint64_t root_ = kNoFrame;
  uint64_t table_pages_ = 0;
};

// ---- inline template members (instantiated by their users) ---------------

template <EntryFormat Format>
template <class Fn>
Status PageTable<Format>::for_each_leaf(uint64_t va, uint64_t len, Fn&& fn) const {
  if ((va & kPageMask) != 0 || (len & kPageMask) != 0) return Status::unaligned;
  if (len == 0 || !initialized()) return Status::ok;
  uint64_t start = 0;
  uint64_t end = 0;
  if (!to_linear(va, len, start, end)) return Status::bad_range;
  const uint64_t sign = va & ~(kLinearSpan - 1);   // upper canonical half: bits 63:48 set
  leaves_in(root_, kTopLevel, start, end, sign, fn);
  return Status::ok;
}

template <EntryFormat Format>
template <class Fn>
void PageTable<Format>::leaves_in(uint64_t table, unsigned level, uint64_t s, uint64_t t, uint64_t sign,
                                  Fn& fn) const {
  const uint64_t size = level_size(level);
  for (uint64_t a = s; a < t;) {
    const uint64_t e_start = a & ~(size - 1);
    const uint64_t e_end = e_start + size;
    const uint64_t ct = e_end < t ? e_end : t;
    const uint64_t e = load(table, static_cast<unsigned>((a >> level_shift(level)) & (kEntriesPerTable - 1)));
    if (Format::is_leaf(e, level)) {
      fn(Leaf{sign | e_start, Format::leaf_phys(e, level), size, level, Format::leaf_attr(e, level)});
    } else if (Format::present(e) && level > 0) {
      leaves_in(Format::table_phys(e), level - 1, a, ct, sign, fn);
    }
    a = ct;
  }
}

}  // namespace mamori::ept
