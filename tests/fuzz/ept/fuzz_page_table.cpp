// libFuzzer target: operation sequences chosen by the fuzzer, checked after
// every step against the per-4K reference model and the structural audit
// (tests/unit/ept/checker.hpp). Window: 2 GiB of guest-physical space
// crossing the PML4 boundary at 512 GiB; 1 GiB pages on or off per input.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "ept/ept.hpp"
#include "tests/unit/ept/arena.hpp"
#include "tests/unit/ept/checker.hpp"

using namespace mamori::ept;
using namespace mamori::ept::test;

namespace {

constexpr uint64_t kWindow = 2 * kSize1G;
constexpr uint64_t kBase = 511 * kSize1G;

struct Reader {
  const uint8_t* p;
  size_t n;
  uint64_t take(unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) {
      v = (v << 8) | (n ? *p : 0);
      if (n) {
        ++p;
        --n;
      }
    }
    return v;
  }
};

[[noreturn]] void fail(const char* what, const std::string& detail, unsigned step) {
  fprintf(stderr, "ept fuzz: step %u: %s %s\n", step, what, detail.c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Arena arena(2048);
  static RefModel* ref = new RefModel(kBase, kWindow / kPageSize);
  if (size < 1) return 0;
  Reader in{data, size};
  const uint8_t flags = static_cast<uint8_t>(in.take(1));
  Options opt;
  opt.page_2m = (flags & 1) == 0;
  opt.page_1g = (flags & 2) != 0;
  opt.exec_only = (flags & 4) != 0;
  opt.defer_merge = (flags & 8) != 0;   // split -> operation -> merge
  Ept ept(arena, opt);
  if (ept.init() != Status::ok) fail("init", "", 0);
  Auditor<EptFormat> auditor(arena, opt);
  AuditReport rep;
  uint64_t touched_lo = kWindow;
  uint64_t touched_hi = 0;
  static constexpr MemType kTypes[] = {MemType::wb, MemType::uc, MemType::wt, MemType::wc, MemType::wp};
  static const Perm kPerms[] = {kRW, kR, kRX, kRWX, Perm::exec, Perm::write, kRW, kRWX};

  for (unsigned step = 0; in.n >= 8 && step < 64; ++step) {
    const uint8_t kind = static_cast<uint8_t>(in.take(1)) % 3;
    const uint8_t shape = static_cast<uint8_t>(in.take(1));
    const uint64_t g = (shape & 3) == 0 ? kSize1G : (shape & 3) == 1 ? kSize2M : kSize4K;
    uint64_t off = (in.take(2) % (kWindow / g)) * g + ((shape >> 2) & 7) * kPageSize;
    if (off >= kWindow) off = kWindow - kPageSize;
    uint64_t len = (1 + (shape >> 5)) * g;
    if (len > kWindow - off) len = kWindow - off;
    const uint64_t pa_sel = in.take(2);
    const uint64_t pa = (pa_sel & 1) ? off + 64 * kSize1G : ((pa_sel >> 1) % 4096) * ((pa_sel & 2) ? kSize2M : kPageSize);
    const uint8_t a = static_cast<uint8_t>(in.take(1));
    const Attr attr{kPerms[a & 7], kTypes[(a >> 3) % 5], (a & 0x80) != 0};
    const int64_t budget = (a & 0x40) ? static_cast<int64_t>((a >> 3) & 3) : -1;

    touched_lo = off < touched_lo ? off : touched_lo;
    touched_hi = off + len > touched_hi ? off + len : touched_hi;
    if (opt.defer_merge) {
      const uint64_t before = ept.table_pages();
      const Result rs = ept.split(kBase + off, len);
      if (!rs.ok()) fail("split", to_string(rs.status), step);
      auditor.run(ept.root_phys(), rep);
      const std::string diff = compare(rep, *ref);
      if (!diff.empty()) fail("split changed a translation", diff, step);
      if (ept.table_pages() < before) fail("split freed tables", "", step);
    }
    const uint64_t tables_before = ept.table_pages();
    arena.set_budget(budget);
    Result r;
    if (kind == 0) r = ept.map(kBase + off, pa, len, attr);
    else if (kind == 1) r = ept.unmap(kBase + off, len);
    else r = ept.protect(kBase + off, len, attr.perm);
    arena.set_budget(-1);

    const Status expect_attr = EptFormat::check(kind == 2 ? Attr{attr.perm, MemType::wb, false} : attr, opt);
    if (kind != 1 && expect_attr != Status::ok) {
      if (r.status != expect_attr) fail("attribute check", to_string(r.status), step);
    } else if (r.status == Status::no_memory) {
      if (budget < 0) fail("no_memory without a budget", "", step);
    } else if (r.status != Status::ok) {
      fail("unexpected status", to_string(r.status), step);
    } else {
      bool changed = false;
      for (uint64_t o = 0; o < len && !changed; o += kPageSize) {
        const RefPage& p = ref->at(kBase + off + o);
        if (!p.present) continue;
        changed = kind == 0 ? !(p.pa == pa + o && p.attr == attr) : kind == 1 ? true : p.attr.perm != attr.perm;
      }
      if (kind == 0) ref->map(kBase + off, pa, len, attr);
      else if (kind == 1) ref->unmap(kBase + off, len);
      else ref->protect(kBase + off, len, attr.perm);
      if (changed && !r.flush) fail("missing flush", "", step);
      if (opt.defer_merge && kind == 2 && ept.table_pages() != tables_before)
        fail("protect after split changed a page size", "", step);
    }
    if (opt.defer_merge && !ept.merge(kBase + off, len).ok()) fail("merge", "", step);

    auditor.run(ept.root_phys(), rep);
    if (!rep.clean()) fail("audit", rep.problems + " empty/mergeable tables", step);
    if (rep.tables != ept.table_pages() || arena.in_use() != ept.table_pages())
      fail("table count", std::to_string(rep.tables) + " reachable, " + std::to_string(ept.table_pages()) +
                              " counted, " + std::to_string(arena.in_use()) + " in use", step);
    if (arena.bad_frees() || arena.bad_accesses()) fail("frame misuse", "", step);
    const std::string diff = compare(rep, *ref);
    if (!diff.empty()) fail("translation", diff, step);
  }

  // Reset for the next input: the engine must give every frame back.
  if (touched_hi > touched_lo) ref->unmap(kBase + touched_lo, touched_hi - touched_lo);
  if (ref->mapped() != 0) fail("reference reset", "", 0);
  ept.destroy();
  if (arena.in_use() != 0) fail("leak after destroy", std::to_string(arena.in_use()), 0);
  return 0;
}
