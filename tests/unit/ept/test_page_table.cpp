// Directed tests of the engine: page-size choice, split, merge, table
// accounting, flush reporting, argument checks and the out-of-frames path.
#include <catch.hpp>
#include <type_traits>
#include <vector>

#include "ept/ept.hpp"
#include "tests/unit/ept/arena.hpp"
#include "tests/unit/ept/checker.hpp"

using namespace mamori::ept;
using mamori::ept::test::Arena;
using mamori::ept::test::Auditor;

// The VMM keeps its tables in namespace-scope objects: no exit-time destructor.
static_assert(std::is_trivially_destructible_v<Ept>);
static_assert(std::is_trivially_destructible_v<HostPageTable>);

namespace {

constexpr uint64_t kGiB = kSize1G;
constexpr uint64_t kMiB2 = kSize2M;
const Attr kRamWb{kRW, MemType::wb, false};
const Attr kMmioUc{kRW, MemType::uc, true};

Options caps(bool p2m, bool p1g) {
  Options o;
  o.page_2m = p2m;
  o.page_1g = p1g;
  return o;
}

template <class Format>
void require_clean(Arena& arena, const PageTable<Format>& pt) {
  const auto report = Auditor<Format>(arena, pt.options()).run(pt.root_phys());
  INFO(report.problems);
  REQUIRE(report.clean());
  REQUIRE(report.tables == pt.table_pages());
  REQUIRE(arena.in_use() == pt.table_pages());
  REQUIRE(arena.bad_frees() == 0);
  REQUIRE(arena.bad_accesses() == 0);
}

}  // namespace

TEST_CASE("an empty table is one root page and translates nothing", "[ept][engine]") {
  Arena arena(16);
  Ept ept(arena, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  CHECK(ept.table_pages() == 1);
  CHECK_FALSE(ept.lookup(0).present);
  CHECK_FALSE(ept.lookup(0xFED4'0000).present);
  require_clean(arena, ept);
  ept.destroy();
  CHECK(arena.in_use() == 0);
}

TEST_CASE("largest page that alignment, length and capabilities allow", "[ept][engine]") {
  Arena arena(64);
  SECTION("4 KiB needs the whole path") {
    Ept ept(arena, caps(true, true));
    REQUIRE(ept.init() == Status::ok);
    const Result r = ept.map(0x1000, 0x9000, kPageSize, kRamWb);
    CHECK(r.ok());
    CHECK_FALSE(r.flush);   // not-present -> present needs no INVEPT
    CHECK(ept.table_pages() == 4);
    const Translation t = ept.lookup(0x1234);
    CHECK(t.present);
    CHECK(t.phys == 0x9234);
    CHECK(t.page_size == kSize4K);
    CHECK(t.attr == kRamWb);
    require_clean(arena, ept);
  }
  SECTION("2 MiB aligned on both sides becomes one PDE") {
    Ept ept(arena, caps(true, false));
    REQUIRE(ept.init() == Status::ok);
    REQUIRE(ept.map(4 * kMiB2, 10 * kMiB2, 2 * kMiB2, kRamWb).ok());
    CHECK(ept.table_pages() == 3);
    CHECK(ept.lookup(5 * kMiB2 + 0x123).page_size == kSize2M);
    CHECK(ept.lookup(5 * kMiB2 + 0x123).phys == 11 * kMiB2 + 0x123);
    require_clean(arena, ept);
  }
  SECTION("without 2 MiB support the same range takes 4 KiB pages") {
    Ept ept(arena, caps(false, false));
    REQUIRE(ept.init() == Status::ok);
    REQUIRE(ept.map(4 * kMiB2, 10 * kMiB2, 2 * kMiB2, kRamWb).ok());
    CHECK(ept.table_pages() == 5);
    CHECK(ept.lookup(5 * kMiB2).page_size == kSize4K);
    require_clean(arena, ept);
  }
  SECTION("1 GiB with the capability, 512 x 2 MiB without") {
    Ept with(arena, caps(true, true));
    REQUIRE(with.init() == Status::ok);
    REQUIRE(with.map(kGiB, 3 * kGiB, kGiB, kRamWb).ok());
    CHECK(with.table_pages() == 2);
    CHECK(with.lookup(kGiB + 0x5000).page_size == kSize1G);
    Arena arena2(64);
    Ept without(arena2, caps(true, false));
    REQUIRE(without.init() == Status::ok);
    REQUIRE(without.map(kGiB, 3 * kGiB, kGiB, kRamWb).ok());
    CHECK(without.table_pages() == 3);
    CHECK(without.lookup(kGiB + 0x5000).page_size == kSize2M);
    require_clean(arena, with);
    require_clean(arena2, without);
  }
  SECTION("va aligned but pa not: small pages") {
    Ept ept(arena, caps(true, true));
    REQUIRE(ept.init() == Status::ok);
    REQUIRE(ept.map(0, kPageSize, kMiB2, kRamWb).ok());
    CHECK(ept.lookup(0).page_size == kSize4K);
    CHECK(ept.lookup(kMiB2 - 1).phys == kMiB2 + kPageSize - 1);
    require_clean(arena, ept);
  }
  SECTION("unaligned head and tail around large pages in the middle") {
    Ept ept(arena, caps(true, true));
    REQUIRE(ept.init() == Status::ok);
    const uint64_t va = kGiB - kPageSize;
    REQUIRE(ept.map(va, va, kGiB + kMiB2 + 2 * kPageSize, kRamWb).ok());
    CHECK(ept.lookup(va).page_size == kSize4K);
    CHECK(ept.lookup(kGiB).page_size == kSize1G);
    CHECK(ept.lookup(2 * kGiB).page_size == kSize2M);
    CHECK(ept.lookup(2 * kGiB + kMiB2).page_size == kSize4K);
    CHECK_FALSE(ept.lookup(2 * kGiB + kMiB2 + kPageSize).present);
    require_clean(arena, ept);
  }
}

TEST_CASE("a sub-range change splits, restoring it merges and frees", "[ept][engine]") {
  Arena arena(64);
  Ept ept(arena, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0, 0, kGiB, kRamWb).ok());
  REQUIRE(ept.table_pages() == 2);

  const uint64_t page = 3 * kMiB2 + 7 * kPageSize;
  Result r = ept.protect(page, kPageSize, kR);
  CHECK(r.ok());
  CHECK(r.flush);
  CHECK(ept.table_pages() == 4);   // + PD (split 1G) + PT (split 2M)
  CHECK(ept.lookup(page).attr.perm == kR);
  CHECK(ept.lookup(page).page_size == kSize4K);
  CHECK(ept.lookup(page + kPageSize).attr.perm == kRW);
  CHECK(ept.lookup(page + kPageSize).page_size == kSize4K);
  CHECK(ept.lookup(0).page_size == kSize2M);
  CHECK(ept.lookup(page).phys == page);
  require_clean(arena, ept);

  r = ept.protect(page, kPageSize, kRW);
  CHECK(r.ok());
  CHECK(r.flush);
  CHECK(ept.table_pages() == 2);   // merged 4K->2M->1G, both tables freed
  CHECK(ept.lookup(page).page_size == kSize1G);
  require_clean(arena, ept);

  // Same through unmap + map of the hole.
  REQUIRE(ept.unmap(page, kPageSize).ok());
  CHECK_FALSE(ept.lookup(page).present);
  CHECK(ept.table_pages() == 4);
  REQUIRE(ept.map(page, page, kPageSize, kRamWb).ok());
  CHECK(ept.table_pages() == 2);
  require_clean(arena, ept);
}

TEST_CASE("filling a 2 MiB block page by page ends in one large page", "[ept][engine]") {
  Arena arena(16);
  Ept ept(arena, caps(true, false));
  REQUIRE(ept.init() == Status::ok);
  for (uint64_t i = 0; i < kEntriesPerTable; ++i) {
    REQUIRE(ept.map(kMiB2 + i * kPageSize, 8 * kMiB2 + i * kPageSize, kPageSize, kRamWb).ok());
    if (i + 1 < kEntriesPerTable) REQUIRE(ept.table_pages() == 4);
  }
  CHECK(ept.table_pages() == 3);
  CHECK(ept.lookup(kMiB2).page_size == kSize2M);
  require_clean(arena, ept);
}

TEST_CASE("different attributes or non-contiguous frames do not merge", "[ept][engine]") {
  Arena arena(16);
  Ept ept(arena, caps(true, false));
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0, 0, kMiB2, kRamWb).ok());
  REQUIRE(ept.map(kPageSize, kPageSize, kPageSize, kMmioUc).ok());
  CHECK(ept.table_pages() == 4);
  REQUIRE(ept.map(kPageSize, 0x8000'0000, kPageSize, kRamWb).ok());
  CHECK(ept.table_pages() == 4);
  REQUIRE(ept.map(kPageSize, kPageSize, kPageSize, kRamWb).ok());
  CHECK(ept.table_pages() == 3);
  require_clean(arena, ept);
}

TEST_CASE("a large map over small pages frees their tables", "[ept][engine]") {
  Arena arena(16);
  Ept ept(arena, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0x5000, 0x7000, 3 * kPageSize, kMmioUc).ok());
  REQUIRE(ept.map(kMiB2 + 0x5000, 0x7000, kPageSize, kMmioUc).ok());
  CHECK(ept.table_pages() == 5);
  const Result r = ept.map(0, 0, kGiB, kRamWb);
  CHECK(r.ok());
  CHECK(r.flush);
  CHECK(ept.table_pages() == 2);
  require_clean(arena, ept);
}

TEST_CASE("unmap and protect leave holes alone and only flush real changes", "[ept][engine]") {
  Arena arena(16);
  Ept ept(arena, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  Result r = ept.unmap(0, kGiB);
  CHECK(r.ok());
  CHECK_FALSE(r.flush);
  r = ept.protect(0, kGiB, kR);
  CHECK(r.ok());
  CHECK_FALSE(r.flush);
  CHECK(ept.table_pages() == 1);
  REQUIRE(ept.map(kMiB2, kMiB2, kMiB2, kRamWb).ok());
  r = ept.protect(0, kGiB, kRW);   // already RW
  CHECK(r.ok());
  CHECK_FALSE(r.flush);
  r = ept.map(kMiB2, kMiB2, kMiB2, kRamWb);   // identical remap
  CHECK_FALSE(r.flush);
  r = ept.protect(0, kGiB, kRX);
  CHECK(r.flush);
  CHECK(ept.lookup(kMiB2).attr == Attr{kRX, MemType::wb, false});   // memtype kept
  r = ept.unmap(0, 4 * kGiB);
  CHECK(r.flush);
  CHECK(ept.table_pages() == 1);
  require_clean(arena, ept);
}

TEST_CASE("ranges crossing PML4 entries and the top of the address space", "[ept][engine]") {
  Arena arena(32);
  Ept ept(arena, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  const uint64_t pml4_span = level_size(3);
  REQUIRE(ept.map(pml4_span - kMiB2, 0, 2 * kMiB2, kRamWb).ok());
  CHECK(ept.lookup(pml4_span - 1).phys == kMiB2 - 1);
  CHECK(ept.lookup(pml4_span).phys == kMiB2);
  CHECK(ept.table_pages() == 5);   // root + 2 x (PDPT + PD)
  // The last page of the 48-bit guest-physical space.
  REQUIRE(ept.map(kLinearSpan - kPageSize, 0x1000, kPageSize, kRamWb).ok());
  CHECK(ept.lookup(kLinearSpan - 1).phys == 0x1FFF);
  require_clean(arena, ept);
  REQUIRE(ept.unmap(0, kLinearSpan).ok());
  CHECK(ept.table_pages() == 1);
}

TEST_CASE("bad arguments are refused and change nothing", "[ept][engine][errors]") {
  Arena arena(16);
  Options o = caps(true, true);
  o.phys_bits = 39;
  Ept ept(arena, o);
  CHECK(ept.map(0, 0, kPageSize, kRamWb).status == Status::not_initialized);
  CHECK(ept.unmap(0, kPageSize).status == Status::not_initialized);
  CHECK(ept.protect(0, kPageSize, kR).status == Status::not_initialized);
  CHECK_FALSE(ept.lookup(0).present);
  REQUIRE(ept.init() == Status::ok);
  CHECK(ept.map(0x800, 0, kPageSize, kRamWb).status == Status::unaligned);
  CHECK(ept.map(0, 0x800, kPageSize, kRamWb).status == Status::unaligned);
  CHECK(ept.map(0, 0, 0x800, kRamWb).status == Status::unaligned);
  CHECK(ept.unmap(0x10, kPageSize).status == Status::unaligned);
  CHECK(ept.protect(0, 0x1001, kR).status == Status::unaligned);
  // Wrapping past 2^64 and leaving the 48-bit guest-physical space.
  CHECK(ept.map(~kPageMask, 0, 2 * kPageSize, kRamWb).status == Status::bad_range);
  CHECK(ept.unmap(~kPageMask, 2 * kPageSize).status == Status::bad_range);
  CHECK(ept.map(kLinearSpan - kPageSize, 0, 2 * kPageSize, kRamWb).status == Status::bad_range);
  CHECK(ept.map(kLinearSpan, 0, kPageSize, kRamWb).status == Status::bad_range);
  // Host-physical beyond MAXPHYADDR (39 bits here).
  CHECK(ept.map(0, uint64_t{1} << 39, kPageSize, kRamWb).status == Status::bad_range);
  CHECK(ept.map(0, (uint64_t{1} << 39) - kPageSize, 2 * kPageSize, kRamWb).status == Status::bad_range);
  CHECK(ept.map(0, ~kPageMask, 2 * kPageSize, kRamWb).status == Status::bad_range);
  // Attributes.
  CHECK(ept.map(0, 0, kPageSize, Attr{Perm::write, MemType::wb, false}).status == Status::bad_attr);
  CHECK(ept.protect(0, kPageSize, Perm::none).status == Status::bad_attr);
  CHECK(ept.map(0, 0, kPageSize, Attr{kR, static_cast<MemType>(2), false}).status == Status::bad_attr);
  // Zero length is a no-op.
  CHECK(ept.map(0, 0, 0, kRamWb).ok());
  CHECK(ept.table_pages() == 1);
  CHECK(arena.allocations() == 1);
  require_clean(arena, ept);
}

TEST_CASE("init refuses an impossible MAXPHYADDR", "[ept][engine][errors]") {
  Arena arena(4);
  Options o;
  o.phys_bits = 53;
  Ept too_wide(arena, o);
  CHECK(too_wide.init() == Status::bad_attr);
  o.phys_bits = 12;
  Ept too_narrow(arena, o);
  CHECK(too_narrow.init() == Status::bad_attr);
  CHECK(arena.in_use() == 0);
  CHECK(too_wide.map(0, 0, kPageSize, kRamWb).status == Status::not_initialized);
}

TEST_CASE("W^X is refused when the owner asks for it", "[ept][engine][errors]") {
  Arena arena(16);
  Options o = caps(true, false);
  o.enforce_wx = true;
  HostPageTable host(arena, o);
  REQUIRE(host.init() == Status::ok);
  CHECK(host.map(0, 0, kPageSize, Attr{kRWX, MemType::wb, false}).status == Status::wx_violation);
  REQUIRE(host.map(0, 0, kPageSize, Attr{kRX, MemType::wb, false}).ok());
  CHECK(host.protect(0, kPageSize, kRWX).status == Status::wx_violation);
  CHECK(host.lookup(0).attr.perm == kRX);
  REQUIRE(host.protect(0, kPageSize, kRW).ok());
  CHECK(host.lookup(0).attr.perm == kRW);
  Ept ept(arena, o);
  REQUIRE(ept.init() == Status::ok);
  CHECK(ept.map(0, 0, kPageSize, Attr{kRWX, MemType::wb, false}).status == Status::wx_violation);
}

TEST_CASE("host tables: canonical halves, kernel image at -2 GiB", "[ept][engine][host]") {
  Arena arena(32);
  HostPageTable host(arena, caps(true, true));
  REQUIRE(host.init() == Status::ok);
  const uint64_t kernel = 0xFFFF'FFFF'8000'0000ull;
  REQUIRE(host.map(kernel, 0x20'0000, 2 * kMiB2, Attr{kRX | Perm::global, MemType::wb, false}).ok());
  const Translation t = host.lookup(kernel + 0x1234);
  CHECK(t.present);
  CHECK(t.phys == 0x20'1234);
  CHECK(t.page_size == kSize2M);
  CHECK(t.attr.perm == (kRX | Perm::global));
  // Up to the very end of the address space (va + len == 2^64).
  REQUIRE(host.map(~uint64_t{0} - kMiB2 + 1, 0x40'0000, kMiB2, Attr{kRW, MemType::uc, false}).ok());
  CHECK(host.lookup(~uint64_t{0}).phys == 0x5F'FFFF);
  CHECK(host.lookup(~uint64_t{0}).attr.type == MemType::uc);
  // The lower half is separate.
  CHECK_FALSE(host.lookup(kernel & ((uint64_t{1} << 47) - 1)).present);
  REQUIRE(host.map(0x1000, 0x1000, kPageSize, Attr{kR | Perm::user, MemType::wb, false}).ok());
  CHECK(host.lookup(0x1000).attr.perm == (kR | Perm::user));
  // Non-canonical, or straddling the hole.
  CHECK(host.map(0x0000'8000'0000'0000ull, 0, kPageSize, kRamWb).status == Status::bad_range);
  CHECK(host.map(0x0000'7FFF'FFFF'F000ull, 0, 2 * kPageSize, kRamWb).status == Status::bad_range);
  CHECK(host.unmap(0xFFFF'7FFF'FFFF'F000ull, kPageSize).status == Status::bad_range);
  CHECK_FALSE(host.lookup(0x0000'8000'0000'0000ull).present);
  require_clean(arena, host);
  host.destroy();
  CHECK(arena.in_use() == 0);
}

TEST_CASE("out of frames mid-operation changes nothing", "[ept][engine][errors]") {
  Arena arena(64);
  Ept ept(arena, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0, 0, 2 * kGiB, kRamWb).ok());
  REQUIRE(ept.table_pages() == 2);

  SECTION("split of a 1 GiB page needs two tables, only one is there") {
    arena.set_budget(1);
    const Result r = ept.protect(kMiB2 + kPageSize, kPageSize, kR);
    CHECK(r.status == Status::no_memory);
    arena.set_budget(-1);
    CHECK(ept.table_pages() == 2);
    CHECK(ept.lookup(kMiB2 + kPageSize).attr.perm == kRW);
    CHECK(ept.lookup(kMiB2 + kPageSize).page_size == kSize1G);
  }
  SECTION("a range whose second half cannot be prepared") {
    // First 1 GiB page splits fine (2 frames), second one runs dry.
    arena.set_budget(3);
    const Result r = ept.unmap(kGiB - kPageSize, 2 * kPageSize);
    CHECK(r.status == Status::no_memory);
    arena.set_budget(-1);
    CHECK(ept.table_pages() == 2);
    CHECK(ept.lookup(kGiB - kPageSize).present);
    CHECK(ept.lookup(kGiB).present);
    CHECK(ept.lookup(kGiB).page_size == kSize1G);
  }
  SECTION("mapping into a hole needing PDPT, PD, PT") {
    arena.set_budget(2);
    const Result r = ept.map(0x80'0000'0000ull + kPageSize, 0, kPageSize, kRamWb);
    CHECK(r.status == Status::no_memory);
    // The PDPT was linked before the PD allocation failed; a walker may have
    // cached that link, so freeing it again needs a flush before reuse.
    CHECK(r.flush);
    arena.set_budget(-1);
    CHECK(ept.table_pages() == 2);
    CHECK_FALSE(ept.lookup(0x80'0000'0000ull + kPageSize).present);
  }
  require_clean(arena, ept);
  // And the table still works afterwards.
  REQUIRE(ept.protect(kMiB2 + kPageSize, kPageSize, kR).ok());
  CHECK(ept.lookup(kMiB2 + kPageSize).attr.perm == kR);
  require_clean(arena, ept);
}

namespace {
// An allocator that misbehaves on request: a misaligned frame, a frame
// without a mapping, or a frame full of garbage.
class Crooked final : public FrameAllocator {
 public:
  explicit Crooked(Arena& a) : arena_(a) {}
  uint64_t alloc_zeroed_frame() override {
    const uint64_t p = arena_.alloc_zeroed_frame();
    if (crooked_next_) {
      crooked_next_ = false;
      handed_ = p + 8;
      return handed_;
    }
    if (dirty_next_) {
      dirty_next_ = false;
      uint64_t* t = arena_.table(p);
      for (unsigned j = 0; j < kEntriesPerTable; ++j) t[j] = Arena::kPoison;
    }
    if (unmapped_next_) {
      unmapped_next_ = false;
      unmapped_ = p;
    }
    return p;
  }
  void free_frame(uint64_t phys) override {
    if (phys == handed_) phys -= 8;
    arena_.free_frame(phys);
  }
  uint64_t* table(uint64_t phys) override { return phys == unmapped_ ? nullptr : arena_.table(phys); }
  bool crooked_next_ = false;
  bool dirty_next_ = false;
  bool unmapped_next_ = false;
  uint64_t unmapped_ = kNoFrame;

 private:
  Arena& arena_;
  uint64_t handed_ = 0;
};
}  // namespace

TEST_CASE("a misaligned frame from the allocator is refused and returned", "[ept][engine][errors]") {
  Arena arena(16);
  Crooked crooked(arena);
  Ept ept(crooked, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  crooked.crooked_next_ = true;
  CHECK(ept.map(0, 0, kPageSize, kRamWb).status == Status::bad_frame);
  CHECK(ept.table_pages() == 1);
  CHECK(arena.in_use() == 1);
  crooked.unmapped_next_ = true;
  CHECK(ept.map(0, 0, kPageSize, kRamWb).status == Status::bad_frame);
  CHECK(ept.table_pages() == 1);
  CHECK(arena.in_use() == 1);
  crooked.unmapped_ = kNoFrame;
  CHECK(ept.map(0, 0, kPageSize, kRamWb).ok());
}

TEST_CASE("a frame handed out dirty is cleared before it is linked", "[ept][engine][errors]") {
  Arena arena(16);
  Crooked crooked(arena);
  Ept ept(crooked, caps(true, true));
  REQUIRE(ept.init() == Status::ok);
  crooked.dirty_next_ = true;   // becomes the PDPT under PML4 entry 0
  REQUIRE(ept.map(kGiB, 0, kGiB, kRamWb).ok());
  CHECK_FALSE(ept.lookup(0).present);   // garbage would have mapped 0..1 GiB
  CHECK(ept.lookup(kGiB).present);
  require_clean(arena, ept);
}

TEST_CASE("accessed/dirty bits survive a split and a merge", "[ept][engine]") {
  Arena arena(16);
  Ept ept(arena, caps(true, false));
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0, 0, kMiB2, kRamWb).ok());
  // Find the PDE and set A and D as the processor would (SDM 3C 29.3.5).
  uint64_t* root = arena.table(ept.root_phys());
  uint64_t* pdpt = arena.table(EptFormat::table_phys(root[0]));
  uint64_t* pd = arena.table(EptFormat::table_phys(pdpt[0]));
  const uint64_t ad = EptBits::accessed.mask() | EptBits::dirty.mask();
  pd[0] |= ad;
  REQUIRE(ept.protect(0, kPageSize, kR).ok());
  uint64_t* pt = arena.table(EptFormat::table_phys(pd[0]));
  CHECK((pt[1] & ad) == ad);
  CHECK((pt[0] & ad) == ad);
  REQUIRE(ept.protect(0, kPageSize, kRW).ok());
  CHECK(EptFormat::is_leaf(pd[0], 1));
  CHECK((pd[0] & ad) == ad);
  require_clean(arena, ept);
}

TEST_CASE("for_each_leaf reports whole leaves in order", "[ept][engine]") {
  Arena arena(16);
  HostPageTable host(arena, caps(true, true));
  REQUIRE(host.init() == Status::ok);
  const uint64_t kernel = 0xFFFF'FFFF'8000'0000ull;
  REQUIRE(host.map(kernel, 0, kGiB, kRamWb).ok());
  REQUIRE(host.protect(kernel + kMiB2 + kPageSize, kPageSize, kR).ok());
  std::vector<Leaf> seen;
  REQUIRE(host.for_each_leaf(kernel + kMiB2 - kPageSize, 3 * kPageSize, [&](const Leaf& l) { seen.push_back(l); }) ==
          Status::ok);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].va == kernel);   // the 2 MiB leaf before, reported whole
  CHECK(seen[0].size == kSize2M);
  CHECK(seen[0].phys == 0);
  CHECK(seen[1].va == kernel + kMiB2);
  CHECK(seen[1].size == kSize4K);
  CHECK(seen[1].attr.perm == kRW);
  CHECK(seen[2].va == kernel + kMiB2 + kPageSize);
  CHECK(seen[2].attr.perm == kR);
  CHECK(seen[2].phys == kMiB2 + kPageSize);
  CHECK(host.for_each_leaf(kernel + 1, kPageSize, [](const Leaf&) {}) == Status::unaligned);
  CHECK(host.for_each_leaf(0x0000'8000'0000'0000ull, kPageSize, [](const Leaf&) {}) == Status::bad_range);
  const LeafCounts c = count_leaves(host, kernel, kGiB);
  CHECK(c.at_level[0] == 512);
  CHECK(c.at_level[1] == 511);
  CHECK(c.at_level[2] == 0);
  CHECK(count_leaves(host, kernel + 1, kGiB).at_level[1] == 0);   // unaligned: nothing
  size_t none = 0;
  CHECK(host.for_each_leaf(0, kGiB, [&](const Leaf&) { ++none; }) == Status::ok);
  CHECK(none == 0);
}

TEST_CASE("split, then protect, then merge: page size and rights change in separate steps",
          "[ept][engine][deferred]") {
  Arena arena(32);
  Options o = caps(true, true);
  o.defer_merge = true;
  Ept ept(arena, o);
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0, 0, kGiB, kRamWb).ok());
  const uint64_t page = 5 * kMiB2 + 3 * kPageSize;

  // A range that covers whole leaves, or only holes, splits nothing.
  Result r = ept.split(0, kGiB);
  CHECK(r.ok());
  CHECK_FALSE(r.flush);
  CHECK(ept.split(kGiB, kGiB).ok());
  CHECK(ept.table_pages() == 2);

  // split: same translations, smaller pages.
  r = ept.split(page, kPageSize);
  CHECK(r.ok());
  CHECK(r.flush);
  CHECK(ept.table_pages() == 4);
  CHECK(ept.lookup(page).page_size == kSize4K);
  CHECK(ept.lookup(page).attr == kRamWb);
  CHECK(ept.lookup(page).phys == page);

  // protect: no table appears or disappears, only the leaf changes.
  r = ept.protect(page, kPageSize, kR);
  CHECK(r.ok());
  CHECK(r.flush);
  CHECK(ept.table_pages() == 4);
  r = ept.protect(page, kPageSize, kRW);
  CHECK(r.ok());
  CHECK(ept.table_pages() == 4);   // uniform again, but the merge waits
  {
    const auto rep = Auditor<EptFormat>(arena, o).run(ept.root_phys());
    CHECK(rep.mergeable_tables == 1);   // the PT; its PD only once the PT is a leaf
  }

  // merge: back to one 1 GiB leaf.
  r = ept.merge(page, kPageSize);
  CHECK(r.ok());
  CHECK(r.flush);
  CHECK(ept.table_pages() == 2);
  CHECK(ept.lookup(page).page_size == kSize1G);
  r = ept.merge(0, kGiB);
  CHECK(r.ok());
  CHECK_FALSE(r.flush);
  require_clean(arena, ept);

  // Empty tables are still freed at once: they hold no translation.
  REQUIRE(ept.map(2 * kGiB, 0, kPageSize, kRamWb).ok());
  CHECK(ept.table_pages() == 4);   // + PD + PT under the existing PDPT
  REQUIRE(ept.unmap(2 * kGiB, kPageSize).ok());
  CHECK(ept.table_pages() == 2);

  // A split that runs out of frames changes nothing.
  arena.set_budget(1);
  r = ept.split(page, kPageSize);
  arena.set_budget(-1);
  CHECK(r.status == Status::no_memory);
  CHECK(ept.table_pages() == 2);
  CHECK(ept.lookup(page).page_size == kSize1G);
  require_clean(arena, ept);

  CHECK(ept.split(1, kPageSize).status == Status::unaligned);
  CHECK(ept.merge(0, 1).status == Status::unaligned);
  CHECK(ept.split(kLinearSpan, kPageSize).status == Status::bad_range);
  CHECK(ept.merge(kLinearSpan, kPageSize).status == Status::bad_range);
}

TEST_CASE("merge() has nothing to do without defer_merge", "[ept][engine][deferred]") {
  Arena arena(16);
  Ept ept(arena, caps(true, false));
  REQUIRE(ept.init() == Status::ok);
  REQUIRE(ept.map(0, 0, kMiB2, kRamWb).ok());
  REQUIRE(ept.protect(kPageSize, kPageSize, kR).ok());
  REQUIRE(ept.protect(kPageSize, kPageSize, kRW).ok());
  CHECK(ept.table_pages() == 3);
  const Result r = ept.merge(0, kGiB);
  CHECK(r.ok());
  CHECK_FALSE(r.flush);
  CHECK(ept.table_pages() == 3);
}
