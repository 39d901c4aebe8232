// Physical frame allocator on synthetic maps and on an OVMF-style map.
#include <catch.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "memmap_file.hpp"
#include "vmm/core/frame_allocator.hpp"
#include "vmm/core/memory_map.hpp"

#ifndef MAMORI_CORE_TEST_DATA
#error "MAMORI_CORE_TEST_DATA must name tests/unit/core/data"
#endif

using namespace mamori::core;
using mamori::boot::MemoryRegion;
using mamori::boot::MemoryType;

namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

MemoryRegion R(uint64_t base, uint64_t size, MemoryType t) { return MemoryRegion{base, size, t, 0, 0}; }

// Host stand-in for the VMM's direct map: the allocator asks once for its
// bitmap; hand out a host buffer and remember what was asked.
struct FakeDirectMap {
  std::vector<uint64_t> buffer;
  uint64_t asked_phys = 0, asked_bytes = 0;
  bool refuse = false;
  static void* map(void* ctx, uint64_t phys, uint64_t bytes) {
    auto* self = static_cast<FakeDirectMap*>(ctx);
    if (self->refuse) return nullptr;
    self->asked_phys = phys;
    self->asked_bytes = bytes;
    self->buffer.assign(bytes / 8 + 1, 0xdeadbeefdeadbeefull);  // garbage: init must clear
    return self->buffer.data();
  }
};

struct Fixture {
  std::vector<PhysRegion> map;
  FakeDirectMap dm;
  FrameAllocator fa;
  FrameError init(const std::vector<MemoryRegion>& in, const std::vector<PhysRange>& extra = {}) {
    map.assign(256, {});
    size_t n = 0;
    REQUIRE(normalize_memory_map(in.data(), in.size(), extra.data(), extra.size(), map.data(),
                                 map.size(), &n) == MemoryMapError::None);
    map.resize(n);
    return fa.init(map.data(), map.size(), &FakeDirectMap::map, &dm);
  }
};

}  // namespace

TEST_CASE("simple map: stats, bitmap carved above 1 MiB", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0, 0xa0000, MemoryType::Usable), R(0x100000, 15 * MiB, MemoryType::Usable)}) ==
          FrameError::None);
  FrameStats s = f.fa.stats();
  CHECK(s.low_total_frames == 0x9f);               // frames 1..0x9f; frame 0 never
  CHECK(s.total_frames == 0x9f + 15 * MiB / 4096);
  CHECK(s.bitmap_frames == 1);
  CHECK(s.used_frames == 1);                        // the bitmap
  CHECK(s.free_frames == s.total_frames - 1);
  CHECK(f.dm.asked_phys == 0x100000);
  CHECK(f.fa.bitmap_phys() == 0x100000);
  CHECK_FALSE(f.fa.is_free(0x100000));
  CHECK_FALSE(f.fa.is_managed(0));
  CHECK(f.fa.free_frame(0x100000) == FrameError::BitmapFrame);
}

TEST_CASE("alloc_frame never returns frame 0 or anything below 1 MiB", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0, 0xa0000, MemoryType::Usable), R(0x100000, 64 * KiB, MemoryType::Usable)}) ==
          FrameError::None);
  std::set<uint64_t> seen;
  uint64_t p;
  while (f.fa.alloc_frame(&p) == FrameError::None) {
    CHECK(p >= kLowMemoryEnd);
    CHECK(p % kFrameSize == 0);
    CHECK(seen.insert(p).second);  // never handed out twice
  }
  CHECK(seen.size() == 15);  // 16 frames minus the bitmap frame
  CHECK(f.fa.alloc_frame(&p) == FrameError::OutOfMemory);
  CHECK(f.fa.stats().free_frames == f.fa.stats().low_free_frames);
  // Low allocations for the AP trampoline: below 1 MiB, never frame 0.
  std::set<uint64_t> low;
  while (f.fa.alloc_low_frame(&p) == FrameError::None) {
    CHECK(p != 0);
    CHECK(p < kLowMemoryEnd);
    CHECK(low.insert(p).second);
  }
  CHECK(low.size() == 0x9f);
  CHECK(f.fa.stats().free_frames == 0);
}

TEST_CASE("a freed frame is found again after the zone filled up", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0x100000, 1 * MiB, MemoryType::Usable)}) == FrameError::None);
  uint64_t p, last = 0;
  while (f.fa.alloc_frame(&p) == FrameError::None) last = p;
  CHECK(last == 0x1ff000);
  REQUIRE(f.fa.free_frame(0x120000) == FrameError::None);
  REQUIRE(f.fa.free_frame(0x1ff000) == FrameError::None);
  REQUIRE(f.fa.alloc_frame(&p) == FrameError::None);
  CHECK(p == 0x120000);  // lowest free first
  REQUIRE(f.fa.alloc_frame(&p) == FrameError::None);
  CHECK(p == 0x1ff000);
  CHECK(f.fa.alloc_frame(&p) == FrameError::OutOfMemory);
}

TEST_CASE("free, double free, foreign and unaligned frees", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0x100000, 1 * MiB, MemoryType::Usable)}) == FrameError::None);
  uint64_t p;
  REQUIRE(f.fa.alloc_frame(&p) == FrameError::None);
  const uint64_t before = f.fa.stats().free_frames;
  CHECK(f.fa.free_frame(p + 8) == FrameError::BadAlignment);
  CHECK(f.fa.free_frame(p) == FrameError::None);
  CHECK(f.fa.stats().free_frames == before + 1);
  CHECK(f.fa.free_frame(p) == FrameError::NotAllocated);
  CHECK(f.fa.free_frame(0x5000000) == FrameError::NotManaged);
  CHECK(f.fa.free_frame(0) == FrameError::NotManaged);
  CHECK(f.fa.free_run(p, 0) == FrameError::BadCount);
  // A run that leaves the zone is refused and changes nothing.
  CHECK(f.fa.free_run(0x1ff000, 2) == FrameError::NotManaged);
}

TEST_CASE("contiguous aligned runs (VMCS, EPT, 2 MiB guest pages)", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0x100000, 31 * MiB, MemoryType::Usable)}) == FrameError::None);
  uint64_t p;
  CHECK(f.fa.alloc_run(0, 4096, &p) == FrameError::BadCount);
  CHECK(f.fa.alloc_run(1, 0, &p) == FrameError::BadAlignment);
  CHECK(f.fa.alloc_run(1, 3 * 4096, &p) == FrameError::BadAlignment);
  CHECK(f.fa.alloc_run(1, 2048, &p) == FrameError::BadAlignment);

  uint64_t single;
  REQUIRE(f.fa.alloc_frame(&single) == FrameError::None);  // fragment the start
  REQUIRE(f.fa.alloc_run(512, 2 * MiB, &p) == FrameError::None);
  CHECK(p % (2 * MiB) == 0);
  CHECK(p >= 2 * MiB);
  for (uint64_t a = p; a < p + 2 * MiB; a += 4096) CHECK_FALSE(f.fa.is_free(a));

  // Fill every 2 MiB page that is left, then there is none.
  int pages = 1;
  while (f.fa.alloc_run(512, 2 * MiB, &p) == FrameError::None) {
    CHECK(p % (2 * MiB) == 0);
    ++pages;
  }
  CHECK(pages == 15);  // 2..32 MiB: 15 whole 2 MiB pages
  CHECK(f.fa.alloc_run(512, 2 * MiB, &p) == FrameError::OutOfMemory);
  // The 1..2 MiB part is still there for small runs.
  REQUIRE(f.fa.alloc_run(4, 16 * KiB, &p) == FrameError::None);
  CHECK(p % (16 * KiB) == 0);
  CHECK(p < 2 * MiB);
  CHECK(f.fa.free_run(p, 4) == FrameError::None);
  CHECK(f.fa.free_run(p, 4) == FrameError::NotAllocated);
}

TEST_CASE("a run skips past a used frame in the middle", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0x100000, 1 * MiB, MemoryType::Usable)}) == FrameError::None);
  // Bitmap takes 0x100000. Reserve 0x104000 so a 4-frame run cannot start below 0x105000.
  CHECK(f.fa.reserve(0x104000, 4096) == 1);
  CHECK(f.fa.reserve(0x104000, 4096) == 0);  // already used
  uint64_t p;
  REQUIRE(f.fa.alloc_run(4, 4096, &p) == FrameError::None);
  CHECK(p == 0x105000);
  REQUIRE(f.fa.alloc_run(3, 4096, &p) == FrameError::None);
  CHECK(p == 0x101000);
}

TEST_CASE("reserved ranges the VMM passes are never handed out", "[frames]") {
  Fixture f;
  const uint64_t vmm = 0x200000, vmm_size = 0x80000, bootinfo = 0x300000, cfg = 0x301800;
  REQUIRE(f.init({R(0x100000, 3 * MiB, MemoryType::Usable)},
                 {{vmm, vmm_size}, {bootinfo, 0x1000}, {cfg, 0x100}}) == FrameError::None);
  uint64_t p;
  while (f.fa.alloc_frame(&p) == FrameError::None) {
    CHECK_FALSE((p >= vmm && p < vmm + vmm_size));
    CHECK(p != bootinfo);
    CHECK(p != 0x301000);  // partial frame of the config text
  }
}

TEST_CASE("empty and all-reserved maps", "[frames]") {
  Fixture f;
  CHECK(f.init({}) == FrameError::NoUsableMemory);
  CHECK(f.init({R(0x100000, 1 * GiB, MemoryType::Reserved), R(0, 0xa0000, MemoryType::AcpiNvs)}) ==
        FrameError::NoUsableMemory);
  uint64_t p;
  CHECK(f.fa.alloc_frame(&p) == FrameError::NotInitialized);
  CHECK(f.fa.free_frame(0x100000) == FrameError::NotInitialized);
  CHECK(f.fa.stats().total_frames == 0);
  // Only frame 0 usable: nothing to manage.
  CHECK(f.init({R(0, 0x1000, MemoryType::Usable)}) == FrameError::NoUsableMemory);
}

TEST_CASE("bitmap needs room above 1 MiB and a mapping", "[frames]") {
  Fixture f;
  CHECK(f.init({R(0x1000, 0x9f000, MemoryType::Usable)}) == FrameError::BitmapNoRoom);
  f.dm.refuse = true;
  CHECK(f.init({R(0x100000, 1 * MiB, MemoryType::Usable)}) == FrameError::BitmapUnmapped);
}

TEST_CASE("tiny regions and above 4 GiB", "[frames]") {
  Fixture f;
  REQUIRE(f.init({R(0x100000, 0x1000, MemoryType::Usable),    // one frame, too small for the bitmap
                  R(0x300000, 0x800, MemoryType::Usable),     // half a frame: not managed
                  R(0x100000000ull, 4 * GiB, MemoryType::Usable)}) == FrameError::None);
  FrameStats s = f.fa.stats();
  CHECK(s.total_frames == 1 + 4 * GiB / 4096);
  CHECK(s.bitmap_frames == 32 + 1);  // 1 Mi frames / 8 = 128 KiB (+ the 1-frame zone's word)
  CHECK(f.dm.asked_phys == 0x100000000ull);  // lowest zone that can hold it
  CHECK_FALSE(f.fa.is_managed(0x300000));
  uint64_t p;
  REQUIRE(f.fa.alloc_frame(&p) == FrameError::None);
  CHECK(p == 0x100000);  // lowest first
  REQUIRE(f.fa.alloc_frame(&p) == FrameError::None);
  CHECK(p >= 0x100000000ull);
  REQUIRE(f.fa.alloc_run(512 * 512, 1 * GiB, &p) == FrameError::None);  // a 1 GiB page
  CHECK(p % GiB == 0);
}

TEST_CASE("a map that is not normalised is refused", "[frames]") {
  FrameAllocator fa;
  uint64_t words[16];
  std::vector<PhysRegion> overlap = {{0x100000, 0x180000, MemoryType::Usable},
                                     {0x140000, 0x200000, MemoryType::Usable}};
  CHECK(fa.init_with_storage(overlap.data(), 2, words, 16) == FrameError::MapNotNormalized);
  std::vector<PhysRegion> unsorted = {{0x300000, 0x310000, MemoryType::Usable},
                                      {0x100000, 0x110000, MemoryType::Usable}};
  CHECK(fa.init_with_storage(unsorted.data(), 2, words, 16) == FrameError::MapNotNormalized);
  uint64_t p;
  CHECK(fa.alloc_frame(&p) == FrameError::NotInitialized);
}

TEST_CASE("caller storage: size checked", "[frames]") {
  std::vector<PhysRegion> map = {{0x100000, 0x100000 + 65 * 4096, MemoryType::Usable}};
  CHECK(FrameAllocator::bitmap_words_needed(map.data(), map.size()) == 2);
  FrameAllocator fa;
  uint64_t words[2];
  CHECK(fa.init_with_storage(map.data(), 1, words, 1) == FrameError::StorageTooSmall);
  CHECK(fa.init_with_storage(map.data(), 1, nullptr, 2) == FrameError::StorageTooSmall);
  REQUIRE(fa.init_with_storage(map.data(), 1, words, 2) == FrameError::None);
  CHECK(fa.stats().total_frames == 65);
  CHECK(fa.stats().free_frames == 65);
  CHECK(fa.stats().bitmap_frames == 0);
  uint64_t p;
  for (int i = 0; i < 65; ++i) REQUIRE(fa.alloc_frame(&p) == FrameError::None);
  CHECK(p == 0x100000 + 64 * 4096);
  CHECK(fa.alloc_frame(&p) == FrameError::OutOfMemory);
}

TEST_CASE("zone table overflow drops (and counts) the rest", "[frames]") {
  std::vector<PhysRegion> map;
  for (uint64_t i = 0; i < FrameAllocator::kMaxZones + 3; ++i)
    map.push_back({0x100000 + i * 0x2000, 0x100000 + i * 0x2000 + 0x1000, MemoryType::Usable});
  std::vector<uint64_t> words(FrameAllocator::kMaxZones);
  FrameAllocator fa;
  REQUIRE(fa.init_with_storage(map.data(), map.size(), words.data(), words.size()) == FrameError::None);
  CHECK(fa.stats().zone_count == FrameAllocator::kMaxZones);
  CHECK(fa.stats().dropped_frames == 3);
}

TEST_CASE("usable region straddling 1 MiB splits into a low and a high zone", "[frames]") {
  std::vector<PhysRegion> map = {{0x80000, 0x200000, MemoryType::Usable}};
  FrameAllocator fa;
  uint64_t words[8];
  REQUIRE(fa.init_with_storage(map.data(), 1, words, 8) == FrameError::None);
  CHECK(fa.stats().zone_count == 2);
  CHECK(fa.stats().low_total_frames == 0x80);
  uint64_t p;
  REQUIRE(fa.alloc_frame(&p) == FrameError::None);
  CHECK(p == 0x100000);
  REQUIRE(fa.alloc_low_frame(&p) == FrameError::None);
  CHECK(p == 0x80000);
}

// Every map in data/memmap/ (modelled or captured): the frames managed must
// be exactly the usable ones the file's expect lines name, and nothing
// handed out may lie in a non-usable descriptor.
void check_map_file(const std::filesystem::path& path) {
  auto file = mamori::test::read_memmap_file(path.string());
  REQUIRE(file.expect.count("usable_frames"));
  REQUIRE(file.expect.count("low_frames"));
  Fixture f;
  REQUIRE(f.init(file.regions) == FrameError::None);
  FrameStats s = f.fa.stats();
  CHECK(s.total_frames == file.expect["usable_frames"]);
  CHECK(s.low_total_frames == file.expect["low_frames"]);
  CHECK(s.used_frames == s.bitmap_frames);
  uint64_t p;
  for (int i = 0; i < 20000; ++i) {
    REQUIRE(f.fa.alloc_frame(&p) == FrameError::None);
    CHECK(p >= kLowMemoryEnd);
    for (auto& r : file.regions)
      if (r.type != MemoryType::Usable) CHECK_FALSE((p >= r.base && p < r.base + r.size));
  }
  REQUIRE(f.fa.alloc_run(512, 2 * MiB, &p) == FrameError::None);
  CHECK(p % (2 * MiB) == 0);
  REQUIRE(f.fa.alloc_low_frame(&p) == FrameError::None);
  CHECK(p == 0x1000);
}

TEST_CASE("memory maps in tests/unit/core/data/memmap", "[frames]") {
  int files = 0;
  for (auto& ent : std::filesystem::directory_iterator(std::string(MAMORI_CORE_TEST_DATA) + "/memmap")) {
    if (ent.path().extension() != ".txt") continue;
    ++files;
    INFO("map " << ent.path().filename().string());
    check_map_file(ent.path());
  }
  CHECK(files >= 2);
}

TEST_CASE("every frame allocator error has a description", "[frames]") {
  for (uint32_t i = 0; i <= static_cast<uint32_t>(FrameError::MapNotNormalized); ++i)
    CHECK(std::string(describe(static_cast<FrameError>(i))) != "unknown frame allocator error");
  CHECK(std::string(describe(static_cast<FrameError>(999))) == "unknown frame allocator error");
  for (uint32_t t = 1; t <= 9; ++t)
    CHECK(std::string(memory_type_name(static_cast<MemoryType>(t))) != "unknown");
}
