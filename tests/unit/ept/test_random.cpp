// Randomized map/unmap/protect sequences against the per-4K reference model.
// Every step is followed by an independent audit of the whole tree:
// translations equal the reference, no empty or mergeable table survives
// (so large pages are used wherever alignment allows), the engine's page
// count equals the reachable tables and the arena's frames in use, and a
// flush is reported whenever a present translation changed.
//
// Seeded and reproducible; the seed and step are printed on failure.
//   MAMORI_EPT_SEED=n    run only seed n
//   MAMORI_EPT_SEEDS=n   number of seeds per configuration (default 2)
//   MAMORI_EPT_STEPS=n   operations per seed (default 80)
#include <stdint.h>
#include <stdlib.h>

#include <catch.hpp>
#include <random>
#include <sstream>
#include <string>

#include "ept/ept.hpp"
#include "tests/unit/ept/arena.hpp"
#include "tests/unit/ept/checker.hpp"

using namespace mamori::ept;
using namespace mamori::ept::test;

namespace {

constexpr uint64_t kWindow = 4 * kSize1G;
// 510 GiB: the window crosses the PML4 boundary at 512 GiB.
constexpr uint64_t kWindowLinear = 510 * kSize1G;
constexpr uint64_t kUpperHalf = 0xFFFF'8000'0000'0000ull;
constexpr uint64_t kPhysSpan = 256 * kSize1G;
constexpr unsigned kFullCheckEvery = 8;

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = getenv(name);
  return v ? strtoull(v, nullptr, 0) : fallback;
}

struct Stats {
  uint64_t leaves_at[kLevels] = {};
  uint64_t merges = 0;       // map/protect steps after which fewer tables were in use
  uint64_t splits = 0;       // steps that needed more tables for protect/unmap
  uint64_t oom_refusals = 0;
  uint64_t wx_refusals = 0;
};

template <class Format>
struct Sequence {
  Options opt;
  bool inject_oom = false;
  uint64_t va_base = 0;   // what the engine is called with

  static Attr random_attr(std::mt19937_64& rng, const Options& o) {
    static constexpr MemType kTypes[] = {MemType::wb, MemType::wb, MemType::wb, MemType::uc, MemType::wt,
                                         MemType::wc, MemType::wp};
    Attr a;
    a.type = kTypes[rng() % 7];
    if constexpr (Format::kCanonical) {
      static const Perm kPerms[] = {kRW, kRW, kR, kRX, kRWX, kR | Perm::user, kRW | Perm::global};
      a.perm = kPerms[rng() % 7];
    } else {
      static const Perm kPerms[] = {kRW, kRW, kRWX, kR, kRX, Perm::exec};
      a.perm = kPerms[rng() % (o.exec_only ? 6 : 5)];
      a.ignore_pat = rng() % 10 == 0;
    }
    return a;
  }

  void run(uint64_t seed, unsigned steps, Stats& stats) {
    std::mt19937_64 rng(seed);
    Arena arena(4096);
    PageTable<Format> pt(arena, opt);
    REQUIRE(pt.init() == Status::ok);
    const uint64_t lin_base = va_base & (kLinearSpan - 1);
    RefModel ref(lin_base, kWindow / kPageSize);
    Auditor<Format> auditor(arena, opt);
    AuditReport rep;
    const uint64_t phys_off[2] = {64 * kSize1G, 128 * kSize1G + 3 * kSize2M};

    for (unsigned step = 0; step < steps; ++step) {
      // --- pick an operation ---
      const unsigned g_pick = rng() % 100;
      const uint64_t g = g_pick < 40 ? kSize4K : g_pick < 70 ? kSize2M : kSize1G;
      const uint64_t jitter = rng() % 5 == 0 ? (rng() % 8) * kPageSize : 0;
      uint64_t off = (rng() % (kWindow / g)) * g + jitter;
      if (off >= kWindow) off = kWindow - kPageSize;
      uint64_t len = (1 + rng() % 3) * g;
      if (rng() % 5 == 0) len += (rng() % 8) * kPageSize;
      if (rng() % 7 == 0 && len > kPageSize) len -= kPageSize;
      if (len > kWindow - off) len = kWindow - off;
      const unsigned kind = rng() % 100;   // 0..44 map, 45..69 unmap, 70..99 protect
      uint64_t pa = 0;
      // Mostly "linear" frames (pa - va constant), so neighbouring maps are
      // contiguous and merge; phys_off[1] is 2 MiB- but not 1 GiB-aligned.
      // Sometimes a fresh frame of the operation's granularity, rarely one
      // that is only 4 KiB-aligned (forcing 4 KiB pages over the range).
      const unsigned pa_mode = rng() % 20;
      if (pa_mode < 13) {
        pa = off + phys_off[rng() % 2];
      } else if (pa_mode < 19) {
        pa = (rng() % (kPhysSpan / g)) * g + jitter;
      } else {
        pa = (rng() % (kPhysSpan / kPageSize)) * kPageSize;
        if (len > 2 * kSize2M) len = 2 * kSize2M;
      }
      const Attr attr = random_attr(rng, opt);
      int64_t budget = -1;
      if (inject_oom && rng() % 6 == 0) budget = static_cast<int64_t>(rng() % 4);

      std::ostringstream what;
      what << std::hex << (kind < 45 ? "map" : kind < 70 ? "unmap" : "protect") << " va=0x" << (va_base + off)
           << " len=0x" << len;
      if (kind < 45) what << " pa=0x" << pa;
      if (kind < 45 || kind >= 70) what << " " << describe(attr);
      if (budget >= 0) what << " frame budget " << std::dec << budget;
      INFO("seed " << seed << " step " << step << ": " << what.str());

      // --- run it on the engine ---
      // With defer_merge, the careful sequence: split (no translation
      // changes), the operation (must not change any page size for
      // unmap/protect), merge.
      uint64_t tables_before = pt.table_pages();
      bool split_failed = false;
      if (opt.defer_merge) {
        arena.set_budget(budget);
        const Result rs = pt.split(va_base + off, len);
        arena.set_budget(-1);
        if (rs.status == Status::no_memory) {
          REQUIRE(budget >= 0);
          ++stats.oom_refusals;
          split_failed = true;
        } else {
          REQUIRE(rs.ok());
        }
        auditor.run(pt.root_phys(), rep);
        INFO("after split: " << rep.problems);
        REQUIRE(rep.problems.empty());
        REQUIRE(rep.empty_tables == 0);
        REQUIRE(rep.tables == pt.table_pages());
        const std::string diff = compare(rep, ref);   // nothing may have changed
        INFO("after split: " << diff);
        REQUIRE(diff.empty());
        if (pt.table_pages() > tables_before) ++stats.splits;
        tables_before = pt.table_pages();
      }
      arena.set_budget(split_failed ? -1 : budget);
      Result r;
      if (split_failed) r = Result{Status::no_memory, false};
      else if (kind < 45) r = pt.map(va_base + off, pa, len, attr);
      else if (kind < 70) r = pt.unmap(va_base + off, len);
      else r = pt.protect(va_base + off, len, attr.perm);
      arena.set_budget(-1);
      if (opt.defer_merge && !split_failed) {
        if (kind >= 70) REQUIRE(pt.table_pages() == tables_before);   // no split, no merge
        if (kind >= 45 && kind < 70) REQUIRE(pt.table_pages() <= tables_before);
      }

      const bool wx = opt.enforce_wx && kind != 45 && has(attr.perm, Perm::write) && has(attr.perm, Perm::exec) &&
                      (kind < 45 || kind >= 70);
      if (wx) {
        REQUIRE(r.status == Status::wx_violation);
        ++stats.wx_refusals;
      } else if (r.status == Status::no_memory) {
        REQUIRE(budget >= 0);
        ++stats.oom_refusals;
      } else {
        REQUIRE(r.status == Status::ok);
        // --- and on the reference; did a present translation change? ---
        bool changed_present = false;
        for (uint64_t o = 0; o < len && !changed_present; o += kPageSize) {
          const RefPage& p = ref.at(lin_base + off + o);
          if (!p.present) continue;
          if (kind < 45) changed_present = !(p.pa == pa + o && p.attr == attr);
          else if (kind < 70) changed_present = true;
          else changed_present = p.attr.perm != attr.perm;
        }
        if (kind < 45) ref.map(lin_base + off, pa, len, attr);
        else if (kind < 70) ref.unmap(lin_base + off, len);
        else ref.protect(lin_base + off, len, attr.perm);
        if (changed_present) REQUIRE(r.flush);
        if ((kind < 45 || kind >= 70) && pt.table_pages() < tables_before) ++stats.merges;
        if (kind >= 45 && pt.table_pages() > tables_before) ++stats.splits;
      }
      if (opt.defer_merge) {
        const uint64_t before_merge = pt.table_pages();
        REQUIRE(pt.merge(va_base + off, len).ok());
        if (pt.table_pages() < before_merge) ++stats.merges;
      }

      // --- audit everything ---
      auditor.run(pt.root_phys(), rep);
      INFO(rep.problems);
      REQUIRE(rep.problems.empty());
      REQUIRE(rep.empty_tables == 0);
      REQUIRE(rep.mergeable_tables == 0);
      REQUIRE(rep.tables == pt.table_pages());
      REQUIRE(arena.in_use() == pt.table_pages());
      REQUIRE(arena.bad_frees() == 0);
      REQUIRE(arena.bad_accesses() == 0);
      // The operation's 1 GiB neighbourhood every step (nothing else may
      // change), the whole window every few steps and at the end.
      const bool full = step % kFullCheckEvery == 0 || step + 1 == steps;
      const uint64_t lo = lin_base + (off & ~(kSize1G - 1));
      const uint64_t hi = lin_base + ((off + len + kSize1G - 1) & ~(kSize1G - 1));
      const std::string diff = full ? compare(rep, ref) : compare(rep, ref, lo, hi);
      INFO(diff);
      REQUIRE(diff.empty());
      for (unsigned l = 0; l < kLevels; ++l) stats.leaves_at[l] += rep.leaves_at[l];

      // The engine's own walk reports the same leaves as the audit.
      if (full) {
        size_t n = 0;
        bool same = true;
        REQUIRE(pt.for_each_leaf(va_base, kWindow, [&](const Leaf& l) {
                  const SeenLeaf* a = n < rep.leaves.size() ? &rep.leaves[n] : nullptr;
                  same = same && a && l.va == ((va_base & ~(kLinearSpan - 1)) | a->lin) && l.phys == a->pa &&
                         l.size == a->size && l.level == a->level && l.attr == a->attr;
                  ++n;
                }) == Status::ok);
        REQUIRE(same);
        REQUIRE(n == rep.leaves.size());
      }

      // --- lookups at random addresses, biased to the operation ---
      for (unsigned k = 0; k < 16; ++k) {
        const uint64_t o = k < 8 ? off + (rng() % len) : rng() % kWindow;
        const RefPage& p = ref.at(lin_base + (o & ~kPageMask));
        const Translation t = pt.lookup(va_base + o);
        REQUIRE(t.present == p.present);
        if (!p.present) continue;
        REQUIRE(t.phys == p.pa + (o & kPageMask));
        REQUIRE(t.attr == p.attr);
        REQUIRE(t.page_phys + (t.phys - t.page_phys) == t.phys);
        REQUIRE(t.page_size == level_size(t.level));
      }
    }

    // Unmapping the window must leave only the root.
    REQUIRE(pt.unmap(va_base, kWindow).ok());
    REQUIRE(pt.table_pages() == 1);
    pt.destroy();
    REQUIRE(arena.in_use() == 0);
  }
};

template <class Format>
void run_config(const char* name, Options opt, bool inject_oom, uint64_t va_base) {
  const uint64_t only = env_or("MAMORI_EPT_SEED", 0);
  const uint64_t seeds = env_or("MAMORI_EPT_SEEDS", 2);
  const unsigned steps = static_cast<unsigned>(env_or("MAMORI_EPT_STEPS", 80));
  Stats stats;
  Sequence<Format> seq{opt, inject_oom, va_base};
  for (uint64_t i = 0; i < seeds; ++i) {
    const uint64_t seed = only ? only : 0x5EED'0000 + i;
    INFO(name << ": reproduce with MAMORI_EPT_SEED=" << seed);
    seq.run(seed, steps, stats);
    if (only) break;
  }
  // The sequences must actually exercise what they claim to.
  INFO(name << ": 4K/2M/1G leaves seen " << stats.leaves_at[0] << "/" << stats.leaves_at[1] << "/"
            << stats.leaves_at[2] << ", merges " << stats.merges << ", splits " << stats.splits);
  CHECK(stats.leaves_at[0] > 0);
  CHECK(stats.leaves_at[1] > 0);
  CHECK((stats.leaves_at[2] > 0) == opt.page_1g);
  CHECK(stats.merges > 0);
  CHECK(stats.splits > 0);
  if (inject_oom) CHECK(stats.oom_refusals > 0);
  if (opt.enforce_wx) CHECK(stats.wx_refusals > 0);
}

Options options(bool p1g) {
  Options o;
  o.page_2m = true;
  o.page_1g = p1g;
  return o;
}

}  // namespace

TEST_CASE("random EPT sequences, 2 MiB pages only", "[ept][random]") {
  run_config<EptFormat>("ept 2M", options(false), false, kWindowLinear);
}

TEST_CASE("random EPT sequences, with 1 GiB pages", "[ept][random]") {
  Options o = options(true);
  o.exec_only = true;
  run_config<EptFormat>("ept 2M+1G", o, false, kWindowLinear);
}

TEST_CASE("random EPT sequences running out of frames", "[ept][random][errors]") {
  run_config<EptFormat>("ept 2M+1G oom", options(true), true, kWindowLinear);
  run_config<EptFormat>("ept 2M oom", options(false), true, kWindowLinear);
}

TEST_CASE("random EPT sequences, split / operate / merge in separate steps", "[ept][random]") {
  Options o = options(true);
  o.defer_merge = true;
  run_config<EptFormat>("ept 2M+1G deferred merge oom", o, true, kWindowLinear);
}

TEST_CASE("random host page-table sequences in the upper half", "[ept][random][host]") {
  run_config<HostFormat>("host 2M", options(false), false, kUpperHalf + kWindowLinear);
  Options o = options(true);
  o.enforce_wx = true;
  run_config<HostFormat>("host 2M+1G W^X oom", o, true, kUpperHalf + kWindowLinear);
}
