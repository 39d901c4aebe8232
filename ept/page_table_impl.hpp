// Definitions of PageTable<Format>; included by page_table.cpp only, which
// instantiates the engine for the two formats (see ept.hpp).
#pragma once

#include "ept/page_table.hpp"

namespace mamori::ept {

namespace detail {

constexpr unsigned index_at(uint64_t linear, unsigned level) {
  return static_cast<unsigned>((linear >> level_shift(level)) & (kEntriesPerTable - 1));
}
constexpr uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
constexpr bool page_aligned(uint64_t v) { return (v & kPageMask) == 0; }

// Lower and upper canonical halves of a 48-bit linear address space
// (SDM 3A §3.3.7.1 "Canonical Addressing", §4.5).
inline constexpr uint64_t kLowerHalfEnd = kLinearSpan >> 1;           // 0x0000_8000_0000_0000
inline constexpr uint64_t kUpperHalfStart = ~(kLowerHalfEnd - 1);     // 0xFFFF_8000_0000_0000

// Visits the entries of one table that intersect [s, t): for each, its
// index, the address range the whole entry covers and the intersection.
template <class Fn>
inline void for_each_entry(unsigned level, uint64_t s, uint64_t t, Fn&& fn) {
  const uint64_t size = level_size(level);
  for (uint64_t a = s; a < t;) {
    const uint64_t e_start = a & ~(size - 1);
    const uint64_t e_end = e_start + size;
    const uint64_t ct = min_u64(t, e_end);
    fn(index_at(a, level), e_start, e_end, a, ct);
    a = ct;
  }
}

}  // namespace detail

template <EntryFormat Format>
Status PageTable<Format>::init() {
  if (initialized()) return Status::ok;
  if (opt_.phys_bits > kMaxPhysBits || opt_.phys_bits <= kPageShift) return Status::bad_attr;
  return new_table(root_);
}

template <EntryFormat Format>
void PageTable<Format>::destroy() {
  if (!initialized()) return;
  free_subtree(root_, kTopLevel);
  root_ = kNoFrame;
}

// ---- argument checks -------------------------------------------------------

template <EntryFormat Format>
bool PageTable<Format>::to_linear(uint64_t va, uint64_t len, uint64_t& start, uint64_t& end) const {
  if (len - 1 > ~va) return false;   // va + len wraps past 2^64
  const uint64_t last = va + (len - 1);
  if constexpr (Format::kCanonical) {
    if (last < detail::kLowerHalfEnd) {
      start = va;
    } else if (va >= detail::kUpperHalfStart) {
      start = va & (kLinearSpan - 1);   // the walk only sees bits 47:0
    } else {
      return false;   // non-canonical or straddles the hole
    }
  } else {
    if (last >= kLinearSpan) return false;
    start = va;
  }
  end = start + len;
  return true;
}

template <EntryFormat Format>
Result PageTable<Format>::map(uint64_t va, uint64_t pa, uint64_t len, Attr attr) {
  if (!initialized()) return {Status::not_initialized, false};
  if (!detail::page_aligned(va) || !detail::page_aligned(pa) || !detail::page_aligned(len))
    return {Status::unaligned, false};
  if (len == 0) return {};
  const uint64_t phys_limit = uint64_t{1} << opt_.phys_bits;
  if (pa >= phys_limit || len > phys_limit - pa) return {Status::bad_range, false};
  Op op{Kind::map, 0, 0, pa, attr};
  if (!to_linear(va, len, op.start, op.end)) return {Status::bad_range, false};
  if (const Status s = Format::check(attr, opt_); s != Status::ok) return {s, false};
  return run(op);
}

template <EntryFormat Format>
Result PageTable<Format>::unmap(uint64_t va, uint64_t len) {
  if (!initialized()) return {Status::not_initialized, false};
  if (!detail::page_aligned(va) || !detail::page_aligned(len)) return {Status::unaligned, false};
  if (len == 0) return {};
  Op op{Kind::unmap, 0, 0, 0, Attr{}};
  if (!to_linear(va, len, op.start, op.end)) return {Status::bad_range, false};
  return run(op);
}

template <EntryFormat Format>
Result PageTable<Format>::protect(uint64_t va, uint64_t len, Perm perm) {
  if (!initialized()) return {Status::not_initialized, false};
  if (!detail::page_aligned(va) || !detail::page_aligned(len)) return {Status::unaligned, false};
  if (len == 0) return {};
  Op op{Kind::protect, 0, 0, 0, Attr{perm, MemType::wb, false}};
  if (!to_linear(va, len, op.start, op.end)) return {Status::bad_range, false};
  // The memory type of each page is kept; only the rights are new.
  if (const Status s = Format::check(op.attr, opt_); s != Status::ok) return {s, false};
  return run(op);
}

template <EntryFormat Format>
Result PageTable<Format>::split(uint64_t va, uint64_t len) {
  if (!initialized()) return {Status::not_initialized, false};
  if (!detail::page_aligned(va) || !detail::page_aligned(len)) return {Status::unaligned, false};
  if (len == 0) return {};
  Op op{Kind::split, 0, 0, 0, Attr{}};
  if (!to_linear(va, len, op.start, op.end)) return {Status::bad_range, false};
  return run(op);
}

template <EntryFormat Format>
Result PageTable<Format>::merge(uint64_t va, uint64_t len) {
  if (!initialized()) return {Status::not_initialized, false};
  if (!detail::page_aligned(va) || !detail::page_aligned(len)) return {Status::unaligned, false};
  if (len == 0) return {};
  uint64_t start = 0;
  uint64_t end = 0;
  if (!to_linear(va, len, start, end)) return {Status::bad_range, false};
  bool flush = false;
  collapse(root_, kTopLevel, start, end, true, flush);
  return {Status::ok, flush};
}

// ---- the three passes ------------------------------------------------------
//
// 1. prepare: make every entry the operation touches only in part a table
//    (split large leaves into 512 equal smaller ones, create tables under
//    holes being mapped). This allocates, but changes no translation.
// 2. apply: rewrite/remove leaves; never allocates, so it cannot fail.
// 3. collapse: free tables that became empty, merge uniform ones (unless
//    Options::defer_merge: then merge() does that after the caller's flush).
// If pass 1 runs out of frames, pass 3 undoes it: what it split is uniform
// and merges back, what it created is empty and is freed.

template <EntryFormat Format>
Result PageTable<Format>::run(const Op& op) {
  bool flush = false;
  const Status s = prepare(op, root_, kTopLevel, op.start, op.end, flush);
  if (s != Status::ok) {
    // Roll back: everything prepare() split is uniform again, everything it
    // created is empty. No translation changed, so merging is safe here.
    collapse(root_, kTopLevel, op.start, op.end, true, flush);
    return {s, flush};
  }
  if (op.kind == Kind::split) return {s, flush};   // leave the splits for the next call
  apply(op, root_, kTopLevel, op.start, op.end, flush);
  collapse(root_, kTopLevel, op.start, op.end, !opt_.defer_merge, flush);
  return {s, flush};
}

// Can the operation deal with this whole entry at this level (a leaf here,
// or removing/rewriting it wholesale) instead of descending?
template <EntryFormat Format>
bool PageTable<Format>::handled_here(const Op& op, unsigned level, uint64_t e_start, uint64_t e_end) const {
  if (e_start < op.start || e_end > op.end) return false;
  if (op.kind != Kind::map) return true;   // unmap/protect/split: whole entries need no split
  const uint64_t pa = op.pa + (e_start - op.start);
  return Format::leaf_allowed(level, opt_) && (pa & (level_size(level) - 1)) == 0;
}

template <EntryFormat Format>
Status PageTable<Format>::prepare(const Op& op, uint64_t table, unsigned level, uint64_t s, uint64_t t,
                                  bool& flush) {
  if (level == 0) return Status::ok;
  Status result = Status::ok;
  detail::for_each_entry(level, s, t, [&](unsigned i, uint64_t e_start, uint64_t e_end, uint64_t cs, uint64_t ct) {
    if (result != Status::ok || handled_here(op, level, e_start, e_end)) return;
    const uint64_t e = load(table, i);
    uint64_t child = 0;
    if (Format::is_leaf(e, level)) {
      // Split (SDM 3A §4.10.2, 3C §29.4: the processor may keep the
      // large translation until invalidated; it is still correct because
      // the 512 small ones say the same).
      if ((result = new_table(child)) != Status::ok) return;
      const unsigned cl = level - 1;
      const Attr a = Format::leaf_attr(e, level);
      const uint64_t base = Format::leaf_phys(e, level);
      const uint64_t ad = Format::accessed_dirty(e);
      for (unsigned j = 0; j < kEntriesPerTable; ++j)
        store(child, j, Format::leaf_entry(base + j * level_size(cl), a, cl) | ad);
      store(table, i, Format::table_entry(child));   // link only when complete
      flush = true;
    } else if (Format::present(e)) {
      child = Format::table_phys(e);
    } else if (op.kind == Kind::map) {
      if ((result = new_table(child)) != Status::ok) return;
      store(table, i, Format::table_entry(child));   // was not present: no flush
    } else {
      return;   // unmap/protect over a hole
    }
    result = prepare(op, child, level - 1, cs, ct, flush);
  });
  return result;
}

template <EntryFormat Format>
void PageTable<Format>::apply(const Op& op, uint64_t table, unsigned level, uint64_t s, uint64_t t,
                              bool& flush) {
  detail::for_each_entry(level, s, t, [&](unsigned i, uint64_t e_start, uint64_t e_end, uint64_t cs, uint64_t ct) {
    const uint64_t e = load(table, i);
    const bool is_table = Format::present(e) && !Format::is_leaf(e, level);
    if (!handled_here(op, level, e_start, e_end)) {
      // prepare() left a table here unless this is a hole under unmap/protect.
      if (is_table) apply(op, Format::table_phys(e), level - 1, cs, ct, flush);
      return;
    }
    switch (op.kind) {
      case Kind::map: {
        const uint64_t leaf = Format::leaf_entry(op.pa + (e_start - op.start), op.attr, level);
        if (e == (leaf | Format::accessed_dirty(e))) return;   // already so
        store(table, i, leaf);   // unlink first, then free what hung below
        if (is_table) free_subtree(Format::table_phys(e), level - 1);
        flush = flush || Format::present(e);
        return;
      }
      case Kind::unmap:
        if (!Format::present(e)) return;
        store(table, i, 0);
        if (is_table) free_subtree(Format::table_phys(e), level - 1);
        flush = true;
        return;
      case Kind::protect: {
        if (is_table) {
          apply(op, Format::table_phys(e), level - 1, cs, ct, flush);
          return;
        }
        if (!Format::present(e)) return;
        Attr a = Format::leaf_attr(e, level);
        a.perm = op.attr.perm;
        const uint64_t leaf = Format::leaf_entry(Format::leaf_phys(e, level), a, level) | Format::accessed_dirty(e);
        if (leaf == e) return;
        store(table, i, leaf);
        flush = true;
        return;
      }
      case Kind::split:
        return;   // run() never applies a split
    }
  });
}

template <EntryFormat Format>
void PageTable<Format>::collapse(uint64_t table, unsigned level, uint64_t s, uint64_t t, bool merge_uniform,
                                 bool& flush) {
  if (level == 0) return;
  detail::for_each_entry(level, s, t, [&](unsigned i, uint64_t, uint64_t, uint64_t cs, uint64_t ct) {
    const uint64_t e = load(table, i);
    if (!Format::present(e) || Format::is_leaf(e, level)) return;
    const uint64_t child = Format::table_phys(e);
    collapse(child, level - 1, cs, ct, merge_uniform, flush);
    uint64_t leaf = 0;
    if (all_empty(child)) {
      store(table, i, 0);
    } else if (merge_uniform && Format::leaf_allowed(level, opt_) && mergeable(child, level - 1, leaf)) {
      store(table, i, leaf);
    } else {
      return;
    }
    // The processor may cache the old table pointer (paging-structure
    // caches, SDM 3A §4.10.3, 3C §29.4 "Caching Translation Information"): the caller flushes before reuse.
    free_table(child);
    flush = true;
  });
}

// 512 leaves with equal attributes mapping one contiguous, aligned block:
// replace them by one leaf a level up.
template <EntryFormat Format>
bool PageTable<Format>::mergeable(uint64_t child, unsigned child_level, uint64_t& leaf) const {
  const uint64_t e0 = load(child, 0);
  if (!Format::is_leaf(e0, child_level)) return false;
  const Attr a = Format::leaf_attr(e0, child_level);
  const uint64_t base = Format::leaf_phys(e0, child_level);
  if ((base & (level_size(child_level + 1) - 1)) != 0) return false;
  uint64_t ad = Format::accessed_dirty(e0);
  for (unsigned j = 1; j < kEntriesPerTable; ++j) {
    const uint64_t e = load(child, j);
    if (!Format::is_leaf(e, child_level) || Format::leaf_phys(e, child_level) != base + j * level_size(child_level) ||
        !(Format::leaf_attr(e, child_level) == a))
      return false;
    ad |= Format::accessed_dirty(e);
  }
  leaf = Format::leaf_entry(base, a, child_level + 1) | ad;
  return true;
}

template <EntryFormat Format>
bool PageTable<Format>::all_empty(uint64_t child) const {
  for (unsigned j = 0; j < kEntriesPerTable; ++j)
    if (Format::present(load(child, j))) return false;
  return true;
}

template <EntryFormat Format>
void PageTable<Format>::free_subtree(uint64_t table, unsigned level) {
  if (level > 0) {
    for (unsigned j = 0; j < kEntriesPerTable; ++j) {
      const uint64_t e = load(table, j);
      if (Format::present(e) && !Format::is_leaf(e, level)) free_subtree(Format::table_phys(e), level - 1);
    }
  }
  free_table(table);
}

// ---- lookup ----------------------------------------------------------------

template <EntryFormat Format>
Translation PageTable<Format>::lookup(uint64_t va) const {
  Translation r;
  uint64_t start = 0;
  uint64_t end = 0;
  if (!initialized() || !to_linear(va & ~kPageMask, kPageSize, start, end)) return r;
  const uint64_t lin = start | (va & kPageMask);
  uint64_t table = root_;
  for (unsigned level = kTopLevel;; --level) {
    const uint64_t e = load(table, detail::index_at(lin, level));
    if (!Format::present(e)) return r;
    if (Format::is_leaf(e, level)) {
      r.present = true;
      r.level = level;
      r.page_size = level_size(level);
      r.page_phys = Format::leaf_phys(e, level);
      r.phys = r.page_phys + (lin & (r.page_size - 1));
      r.attr = Format::leaf_attr(e, level);
      return r;
    }
    if (level == 0) return r;
    table = Format::table_phys(e);
  }
}

// ---- frames and entries ----------------------------------------------------

template <EntryFormat Format>
Status PageTable<Format>::new_table(uint64_t& phys) {
  const uint64_t p = frames_.alloc_zeroed_frame();
  if (p == kNoFrame) return Status::no_memory;
  if (!detail::page_aligned(p) || (p >> opt_.phys_bits) != 0 || frames_.table(p) == nullptr) {
    frames_.free_frame(p);
    return Status::bad_frame;
  }
  // Defence in depth: a frame that is not really zero would be read as
  // live translations the moment it is linked. It is not linked yet, so
  // plain stores suffice; 512 stores are cheap next to a split's 512.
  uint64_t* t = frames_.table(p);
  for (unsigned j = 0; j < kEntriesPerTable; ++j) t[j] = 0;
  phys = p;
  ++table_pages_;
  return Status::ok;
}

template <EntryFormat Format>
void PageTable<Format>::free_table(uint64_t phys) {
  frames_.free_frame(phys);
  --table_pages_;
}

// Entries are read and written with single 64-bit atomic accesses: the
// processor walks them concurrently and sets A/D bits with locked
// operations (SDM 3A §4.8; 3C §29.3 "Accessed and Dirty Flags for EPT");
// a torn or reordered store could expose half an entry or a link to an
// unfilled table.
template <EntryFormat Format>
uint64_t PageTable<Format>::load(uint64_t table, unsigned index) const {
  return __atomic_load_n(&frames_.table(table)[index], __ATOMIC_RELAXED);
}

template <EntryFormat Format>
void PageTable<Format>::store(uint64_t table, unsigned index, uint64_t entry) {
  __atomic_store_n(&frames_.table(table)[index], entry, __ATOMIC_RELEASE);
}

}  // namespace mamori::ept
