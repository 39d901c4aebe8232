// Test-side oracle for the page-table engine:
//  * RefModel: the "simple reference model", one record per 4 KiB page of a
//    window of the address space;
//  * audit(): an independent walk of the tables (through the arena and the
//    format's entry accessors, not through the engine) that collects the
//    leaves and checks the structural invariants.
#pragma once

#include <stdint.h>

#include <sstream>
#include <string>
#include <vector>

#include "ept/ept.hpp"
#include "tests/unit/ept/arena.hpp"

namespace mamori::ept::test {

struct RefPage {
  uint64_t pa = 0;
  Attr attr{};
  bool present = false;
  bool operator==(const RefPage&) const = default;
};

// `base` is a linear address (bits 47:0); the engine's canonical upper half
// is folded into it by the callers.
class RefModel {
 public:
  RefModel(uint64_t base, uint64_t pages) : base_(base), pages_(pages) {}

  uint64_t base() const { return base_; }
  uint64_t size() const { return pages_.size() * kPageSize; }
  uint64_t mapped() const { return mapped_; }
  const RefPage& at(uint64_t lin) const { return pages_[(lin - base_) / kPageSize]; }
  uint64_t mapped_in(uint64_t lo, uint64_t hi) const {
    if (lo == base_ && hi == base_ + size()) return mapped_;
    uint64_t n = 0;
    for (uint64_t a = lo; a < hi; a += kPageSize) n += at(a).present ? 1 : 0;
    return n;
  }

  void map(uint64_t lin, uint64_t pa, uint64_t len, Attr a) {
    for (uint64_t off = 0; off < len; off += kPageSize) set(lin + off, RefPage{pa + off, a, true});
  }
  void unmap(uint64_t lin, uint64_t len) {
    for (uint64_t off = 0; off < len; off += kPageSize) set(lin + off, RefPage{});
  }
  void protect(uint64_t lin, uint64_t len, Perm p) {
    for (uint64_t off = 0; off < len; off += kPageSize) {
      RefPage r = at(lin + off);
      if (!r.present) continue;
      r.attr.perm = p;
      set(lin + off, r);
    }
  }

 private:
  void set(uint64_t lin, const RefPage& r) {
    RefPage& slot = pages_[(lin - base_) / kPageSize];
    mapped_ += (r.present ? 1 : 0);
    mapped_ -= (slot.present ? 1 : 0);
    slot = r;
  }

  uint64_t base_;
  std::vector<RefPage> pages_;
  uint64_t mapped_ = 0;
};

struct SeenLeaf {
  uint64_t lin;
  uint64_t pa;
  uint64_t size;
  unsigned level;
  Attr attr;
};

struct AuditReport {
  uint64_t tables = 0;
  uint64_t empty_tables = 0;
  uint64_t mergeable_tables = 0;
  uint64_t leaves_at[kLevels] = {};
  std::vector<SeenLeaf> leaves;   // in address order
  std::string problems;       // first few structural problems, human-readable
  bool clean() const { return problems.empty() && empty_tables == 0 && mergeable_tables == 0; }
};

template <class Format>
class Auditor {
 public:
  Auditor(Arena& arena, const Options& opt) : arena_(arena), opt_(opt) {}

  // Reuses `r`'s storage: one audit per step must not cost a fresh
  // (sanitizer-quarantined) heap block.
  void run(uint64_t root, AuditReport& r) {
    r.tables = r.empty_tables = r.mergeable_tables = 0;
    for (uint64_t& n : r.leaves_at) n = 0;
    r.leaves.clear();
    r.problems.clear();
    walk(root, kTopLevel, 0, r);
  }
  AuditReport run(uint64_t root) {
    AuditReport r;
    run(root, r);
    return r;
  }

 private:
  void problem(AuditReport& r, const std::string& what) {
    if (r.problems.size() < 2000) r.problems += what + "\n";
  }

  void walk(uint64_t table, unsigned level, uint64_t base, AuditReport& r) {
    ++r.tables;
    if (!arena_.owns(table)) {
      problem(r, "table not owned by the arena");
      return;
    }
    const uint64_t* t = arena_.table(table);
    for (unsigned j = 0; j < kEntriesPerTable; ++j) {
      const uint64_t e = t[j];
      const uint64_t lin = base + j * level_size(level);
      if (!Format::present(e)) {
        if (e != 0) problem(r, "non-zero not-present entry");
        continue;
      }
      if (Format::is_leaf(e, level)) {
        if (level == kTopLevel || !Format::leaf_allowed(level, opt_)) problem(r, "leaf at a forbidden level");
        const uint64_t pa = Format::leaf_phys(e, level);
        const Attr a = Format::leaf_attr(e, level);
        if (Format::leaf_entry(pa, a, level) != (e & ~Format::accessed_dirty(e)))
          problem(r, "leaf does not re-encode to itself");
        r.leaves.push_back(SeenLeaf{lin, pa, level_size(level), level, a});
        ++r.leaves_at[level];
        continue;
      }
      const uint64_t child = Format::table_phys(e);
      if (Format::table_entry(child) != e) problem(r, "odd table entry bits");
      walk(child, level - 1, lin, r);
      if (arena_.owns(child)) inspect(child, level - 1, r);
    }
  }

  // Independent of the engine's own merge logic.
  void inspect(uint64_t child, unsigned cl, AuditReport& r) {
    const uint64_t* t = arena_.table(child);
    bool empty = true;
    for (unsigned j = 0; j < kEntriesPerTable; ++j) empty = empty && !Format::present(t[j]);
    if (empty) {
      ++r.empty_tables;
      return;
    }
    if (!Format::leaf_allowed(cl + 1, opt_)) return;
    const uint64_t csize = level_size(cl);
    for (unsigned j = 0; j < kEntriesPerTable; ++j) {
      if (!Format::is_leaf(t[j], cl)) return;
      if (Format::leaf_phys(t[j], cl) != Format::leaf_phys(t[0], cl) + j * csize) return;
      if (!(Format::leaf_attr(t[j], cl) == Format::leaf_attr(t[0], cl))) return;
    }
    if (Format::leaf_phys(t[0], cl) % level_size(cl + 1) != 0) return;
    ++r.mergeable_tables;
  }

  Arena& arena_;
  Options opt_;
};

inline std::string describe(const Attr& a) {
  std::ostringstream s;
  s << "perm=" << unsigned(static_cast<uint8_t>(a.perm)) << " type=" << unsigned(static_cast<uint8_t>(a.type))
    << " ipat=" << a.ignore_pat;
  return s.str();
}

// Every page the leaves map within [lo, hi) must be in the reference with
// the same frame and attributes, and the leaves must cover exactly as many
// pages there as the reference has mapped (so nothing mapped in the
// reference is missing from the tables). [lo, hi) must be within the window
// and aligned to the largest leaf size; leaves outside the window are errors.
inline std::string compare(const AuditReport& r, const RefModel& ref, uint64_t lo, uint64_t hi) {
  uint64_t covered = 0;
  for (const SeenLeaf& l : r.leaves) {
    if (l.lin < ref.base() || l.lin + l.size > ref.base() + ref.size()) {
      std::ostringstream s;
      s << std::hex << "leaf at 0x" << l.lin << " size 0x" << l.size << " outside the test window";
      return s.str();
    }
    if (l.lin + l.size <= lo || l.lin >= hi) continue;
    for (uint64_t off = 0; off < l.size; off += kPageSize) {
      const RefPage& p = ref.at(l.lin + off);
      if (!p.present || p.pa != l.pa + off || !(p.attr == l.attr)) {
        std::ostringstream s;
        s << std::hex << "page 0x" << (l.lin + off) << ": tables say pa 0x" << (l.pa + off) << " "
          << describe(l.attr) << " (leaf level " << l.level << "), reference says "
          << (p.present ? "pa 0x" : "unmapped") << (p.present ? p.pa : 0) << " " << describe(p.attr);
        return s.str();
      }
    }
    covered += l.size / kPageSize;
  }
  const uint64_t expected = ref.mapped_in(lo, hi);
  if (covered != expected) {
    std::ostringstream s;
    s << std::hex << "in [0x" << lo << ", 0x" << hi << ") the tables map " << std::dec << covered
      << " pages, the reference " << expected;
    return s.str();
  }
  return {};
}

inline std::string compare(const AuditReport& r, const RefModel& ref) {
  return compare(r, ref, ref.base(), ref.base() + ref.size());
}

}  // namespace mamori::ept::test
