// Memory map normalisation: unsorted, overlapping, unaligned, empty, huge.
#include <catch.hpp>

#include <random>
#include <vector>

#include "vmm/core/efi_memory_type.hpp"
#include "vmm/core/memory_map.hpp"

using namespace mamori::core;
using mamori::boot::MemoryRegion;
using mamori::boot::MemoryType;

namespace {

MemoryRegion R(uint64_t base, uint64_t size, MemoryType t) { return MemoryRegion{base, size, t, 0, 0}; }

std::vector<PhysRegion> normalize(const std::vector<MemoryRegion>& in,
                                  const std::vector<PhysRange>& extra = {},
                                  MemoryMapStats* stats = nullptr) {
  std::vector<PhysRegion> out(64);
  size_t n = 0;
  REQUIRE(normalize_memory_map(in.data(), in.size(), extra.data(), extra.size(), out.data(),
                               out.size(), &n, stats) == MemoryMapError::None);
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("sorted disjoint map passes through, adjacent same types merge", "[memmap]") {
  auto out = normalize({R(0x1000, 0x9f000, MemoryType::Usable),
                        R(0x100000, 0x100000, MemoryType::Usable),
                        R(0x200000, 0x100000, MemoryType::Usable),
                        R(0x300000, 0x1000, MemoryType::AcpiNvs)});
  REQUIRE(out.size() == 3);
  CHECK(out[0].base == 0x1000);
  CHECK(out[0].end == 0xa0000);
  CHECK(out[1].base == 0x100000);
  CHECK(out[1].end == 0x300000);  // two usable descriptors merged
  CHECK(out[2].type == MemoryType::AcpiNvs);
}

TEST_CASE("unsorted input comes out sorted", "[memmap]") {
  auto out = normalize({R(0x500000, 0x1000, MemoryType::Reserved),
                        R(0x100000, 0x1000, MemoryType::Usable),
                        R(0x300000, 0x1000, MemoryType::Mmio)});
  REQUIRE(out.size() == 3);
  CHECK(out[0].base == 0x100000);
  CHECK(out[1].base == 0x300000);
  CHECK(out[2].base == 0x500000);
}

TEST_CASE("overlaps resolve to the most restrictive type", "[memmap]") {
  // Usable 1M..3M with reserved 1.5M..2M inside, and an Unusable range that
  // overlaps the reserved one and the usable tail.
  auto out = normalize({R(0x100000, 0x200000, MemoryType::Usable),
                        R(0x180000, 0x80000, MemoryType::Reserved),
                        R(0x1c0000, 0x80000, MemoryType::Unusable)});
  REQUIRE(out.size() == 4);
  CHECK(out[0].base == 0x100000); CHECK(out[0].end == 0x180000); CHECK(out[0].type == MemoryType::Usable);
  CHECK(out[1].base == 0x180000); CHECK(out[1].end == 0x1c0000); CHECK(out[1].type == MemoryType::Reserved);
  CHECK(out[2].base == 0x1c0000); CHECK(out[2].end == 0x240000); CHECK(out[2].type == MemoryType::Unusable);
  CHECK(out[3].base == 0x240000); CHECK(out[3].end == 0x300000); CHECK(out[3].type == MemoryType::Usable);

  // Identical duplicates with different types: the stricter wins, whatever order.
  for (int order = 0; order < 2; ++order) {
    std::vector<MemoryRegion> in = {R(0x100000, 0x1000, MemoryType::Usable),
                                    R(0x100000, 0x1000, MemoryType::AcpiReclaim)};
    if (order) std::swap(in[0], in[1]);
    auto o = normalize(in);
    REQUIRE(o.size() == 1);
    CHECK(o[0].type == MemoryType::AcpiReclaim);
  }
}

TEST_CASE("rank order", "[memmap]") {
  CHECK(memory_type_rank(MemoryType::Usable) < memory_type_rank(MemoryType::Loaded));
  CHECK(memory_type_rank(MemoryType::Loaded) < memory_type_rank(MemoryType::AcpiReclaim));
  CHECK(memory_type_rank(MemoryType::AcpiReclaim) < memory_type_rank(MemoryType::Reserved));
  CHECK(memory_type_rank(MemoryType::Reserved) < memory_type_rank(MemoryType::Unusable));
  CHECK(memory_type_rank(static_cast<MemoryType>(77)) == memory_type_rank(MemoryType::Reserved));
}

TEST_CASE("unknown type values become Reserved", "[memmap]") {
  auto out = normalize({R(0x100000, 0x1000, static_cast<MemoryType>(0x70000000))});
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == MemoryType::Reserved);
}

TEST_CASE("extra ranges the VMM occupies are carved out as Loaded", "[memmap]") {
  auto out = normalize({R(0x100000, 0x400000, MemoryType::Usable)},
                       {{0x200000, 0x10000}, {0x300800, 0x100}});
  REQUIRE(out.size() == 5);
  CHECK(out[0].end == 0x200000);
  CHECK(out[1].type == MemoryType::Loaded);
  CHECK(out[1].end == 0x210000);
  CHECK(out[2].base == 0x210000);
  CHECK(out[2].end == 0x300000);   // usable shrinks to whole frames before 0x300800
  CHECK(out[3].type == MemoryType::Loaded);
  CHECK(out[3].base == 0x300800);
  CHECK(out[4].base == 0x301000);  // and resumes at the next whole frame
  CHECK(out[4].type == MemoryType::Usable);
}

TEST_CASE("unaligned and tiny usable regions shrink to whole frames or vanish", "[memmap]") {
  auto out = normalize({R(0x100010, 0x2000, MemoryType::Usable),   // -> 0x101000..0x102000
                        R(0x200000, 0xfff, MemoryType::Usable),    // less than a frame: gone
                        R(0x300000, 0x1, MemoryType::Usable)});    // one byte: gone
  REQUIRE(out.size() == 1);
  CHECK(out[0].base == 0x101000);
  CHECK(out[0].end == 0x102000);
}

TEST_CASE("holes stay holes", "[memmap]") {
  auto out = normalize({R(0x100000, 0x1000, MemoryType::Usable), R(0x300000, 0x1000, MemoryType::Usable)});
  REQUIRE(out.size() == 2);
  CHECK(out[0].end == 0x101000);
  CHECK(out[1].base == 0x300000);
}

TEST_CASE("empty and zero-size maps", "[memmap]") {
  CHECK(normalize({}).empty());
  MemoryMapStats st{};
  CHECK(normalize({R(0x100000, 0, MemoryType::Usable)}, {}, &st).empty());
  CHECK(st.ignored_descriptors == 1);
}

TEST_CASE("above 4 GiB, beyond MAXPHYADDR, and wrapping sizes", "[memmap]") {
  MemoryMapStats st{};
  auto out = normalize({R(0x100000000ull, 0x80000000ull, MemoryType::Usable),
                        R(kMaxPhysEnd, 0x1000, MemoryType::Usable),              // beyond: ignored
                        R(kMaxPhysEnd - 0x1000, 0x2000, MemoryType::Reserved),   // clipped
                        R(0xfffffffffffff000ull, 0x2000, MemoryType::Usable)},   // wraps: ignored
                       {}, &st);
  REQUIRE(out.size() == 2);
  CHECK(out[0].base == 0x100000000ull);
  CHECK(out[0].end == 0x180000000ull);
  CHECK(out[1].base == kMaxPhysEnd - 0x1000);
  CHECK(out[1].end == kMaxPhysEnd);
  CHECK(st.ignored_descriptors == 2);
  CHECK(st.clipped_descriptors == 1);
}

TEST_CASE("refusals: output full, null input", "[memmap]") {
  std::vector<MemoryRegion> in = {R(0x100000, 0x1000, MemoryType::Usable),
                                  R(0x200000, 0x1000, MemoryType::Reserved),
                                  R(0x300000, 0x1000, MemoryType::Usable)};
  PhysRegion out[2];
  size_t n = 99;
  CHECK(normalize_memory_map(in.data(), in.size(), nullptr, 0, out, 2, &n) == MemoryMapError::OutputFull);
  CHECK(n == 0);
  CHECK(normalize_memory_map(nullptr, 1, nullptr, 0, out, 2, &n) == MemoryMapError::NullInput);
  CHECK(normalize_memory_map(in.data(), 1, nullptr, 1, out, 2, &n) == MemoryMapError::NullInput);
  CHECK(std::string(describe(MemoryMapError::OutputFull)).find("output") != std::string::npos);
}

TEST_CASE("EFI type translation follows boot/bootinfo.hpp", "[memmap]") {
  CHECK(memory_type_from_efi(7) == MemoryType::Usable);   // Conventional
  CHECK(memory_type_from_efi(3) == MemoryType::Usable);   // BootServicesCode
  CHECK(memory_type_from_efi(4) == MemoryType::Usable);   // BootServicesData
  CHECK(memory_type_from_efi(1) == MemoryType::Usable);   // LoaderCode
  CHECK(memory_type_from_efi(2) == MemoryType::Loaded);   // LoaderData
  CHECK(memory_type_from_efi(5) == MemoryType::RuntimeServices);
  CHECK(memory_type_from_efi(6) == MemoryType::RuntimeServices);
  CHECK(memory_type_from_efi(9) == MemoryType::AcpiReclaim);
  CHECK(memory_type_from_efi(10) == MemoryType::AcpiNvs);
  CHECK(memory_type_from_efi(11) == MemoryType::Mmio);
  CHECK(memory_type_from_efi(12) == MemoryType::Mmio);
  CHECK(memory_type_from_efi(8) == MemoryType::Unusable);
  CHECK(memory_type_from_efi(14) == MemoryType::Persistent);
  CHECK(memory_type_from_efi(0) == MemoryType::Reserved);
  CHECK(memory_type_from_efi(13) == MemoryType::Reserved);
  CHECK(memory_type_from_efi(15) == MemoryType::Reserved);
  CHECK(memory_type_from_efi(0x80000001u) == MemoryType::Reserved);
}

// Property test against a brute-force oracle on a 256-byte granule grid:
// a granule's type is the most restrictive covering type; output regions
// must be sorted, disjoint, merged, and agree with the oracle everywhere
// (usable only where the whole frame is usable).
TEST_CASE("random maps agree with a brute-force oracle", "[memmap]") {
  constexpr uint64_t kGranule = 0x100, kSpace = 0x40000;  // 256 KiB, 64 frames
  constexpr size_t kGranules = kSpace / kGranule;
  std::mt19937_64 rng(12345);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<MemoryRegion> in;
    const int n = static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      uint64_t b = (rng() % kGranules) * kGranule;
      uint64_t s = (rng() % (kGranules / 4)) * kGranule;
      in.push_back(R(b, s, static_cast<MemoryType>(1 + rng() % 9)));
    }
    std::vector<int> oracle(kGranules, -1);  // rank, -1 = hole
    std::vector<MemoryType> otype(kGranules);
    for (auto& r : in)
      for (uint64_t g = r.base / kGranule; g < (r.base + r.size) / kGranule && g < kGranules; ++g) {
        int rank = static_cast<int>(memory_type_rank(r.type));
        if (rank > oracle[g]) oracle[g] = rank, otype[g] = r.type;
      }
    auto out = normalize(in);
    for (size_t i = 0; i < out.size(); ++i) {
      REQUIRE(out[i].base < out[i].end);
      if (i) {
        REQUIRE(out[i - 1].end <= out[i].base);
        if (out[i - 1].end == out[i].base) REQUIRE(out[i - 1].type != out[i].type);
      }
    }
    for (size_t g = 0; g < kGranules; ++g) {
      const uint64_t a = g * kGranule;
      const PhysRegion* hit = nullptr;
      for (auto& r : out)
        if (a >= r.base && a < r.end) hit = &r;
      const size_t fg = g - g % (0x1000 / kGranule);
      bool frame_usable = true;
      for (size_t k = fg; k < fg + 0x1000 / kGranule; ++k)
        if (oracle[k] != 0) frame_usable = false;
      if (oracle[g] == -1) {
        REQUIRE(hit == nullptr);
      } else if (oracle[g] == 0) {
        if (frame_usable) {
          REQUIRE(hit != nullptr);
          REQUIRE(hit->type == MemoryType::Usable);
        } else {
          REQUIRE(hit == nullptr);  // partial usable frame dropped
        }
      } else {
        REQUIRE(hit != nullptr);
        REQUIRE(hit->type == otype[g]);
      }
    }
  }
}
