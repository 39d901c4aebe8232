// ept_bench: how many EPT table pages typical guests need, with 4 KiB pages
// only, with 2 MiB pages, and with 2 MiB + 1 GiB pages. Not a test; the
// figures go into docs/benchmarks.md (EPT table pages).
//
// Guest-physical layout (PC-like):
//   RAM, WB          [0, min(size, 3 GiB)) and, above 3 GiB of RAM,
//                    [4 GiB, 4 GiB + rest) (the 3..4 GiB hole is remapped)
//   MMIO, UC         [0xFEC00000, 0xFF000000)  IOAPIC, HPET, LAPIC window
//   TPM, unmapped    [0xFED40000, 0xFED45000)  TIS localities 0..4: every
//                    access is an EPT violation handled by the vTPM model
#include <stdint.h>
#include <stdio.h>

#include "ept/ept.hpp"
#include "tests/unit/ept/arena.hpp"

using namespace mamori::ept;

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kLowRamEnd = 3 * kGiB;
constexpr uint64_t kHighRamStart = 4 * kGiB;
constexpr uint64_t kMmioStart = 0xFEC0'0000;
constexpr uint64_t kMmioEnd = 0xFF00'0000;
constexpr uint64_t kTpmStart = 0xFED4'0000;
constexpr uint64_t kTpmEnd = kTpmStart + 5 * kPageSize;
constexpr uint64_t kHostRamBase = 16 * kGiB;   // where the VMM would place this guest's RAM

struct Config {
  const char* name;
  bool page_2m;
  bool page_1g;
};

bool must(Result r, const char* what) {
  if (!r.ok()) fprintf(stderr, "ept_bench: %s failed: %s\n", what, to_string(r.status));
  return r.ok();
}

struct Figures {
  uint64_t table_pages = 0;   // 0: the build failed
  uint64_t leaves[3] = {};    // 4 KiB, 2 MiB, 1 GiB leaves
};

Figures build(uint64_t guest_ram, const Config& c) {
  test::Arena arena(8192);   // 32 MiB: enough for 4 GiB of 4 KiB pages
  Options o;
  o.page_2m = c.page_2m;
  o.page_1g = c.page_1g;
  Ept ept(arena, o);
  Figures f;
  if (ept.init() != Status::ok) return f;
  const Attr ram{kRWX, MemType::wb, false};
  const Attr mmio{kRW, MemType::uc, true};
  const uint64_t low = guest_ram < kLowRamEnd ? guest_ram : kLowRamEnd;
  bool ok = must(ept.map(0, kHostRamBase, low, ram), "low RAM");
  if (guest_ram > low)
    ok = ok && must(ept.map(kHighRamStart, kHostRamBase + low, guest_ram - low, ram), "high RAM");
  ok = ok && must(ept.map(kMmioStart, kMmioStart, kTpmStart - kMmioStart, mmio), "MMIO below TPM");
  ok = ok && must(ept.map(kTpmEnd, kTpmEnd, kMmioEnd - kTpmEnd, mmio), "MMIO above TPM");
  ok = ok && !ept.lookup(kTpmStart).present && ept.lookup(kTpmStart - 1).present &&
       ept.lookup(guest_ram > low ? kHighRamStart + (guest_ram - low) - 1 : guest_ram - 1).present;
  if (!ok) {
    fprintf(stderr, "ept_bench: layout check failed\n");
    return f;
  }
  const LeafCounts counts = count_leaves(ept, 0, kLinearSpan);
  for (unsigned l = 0; l < 3; ++l) f.leaves[l] = counts.at_level[l];
  f.table_pages = ept.table_pages();
  ept.destroy();
  if (arena.in_use() != 0) f.table_pages = 0;
  return f;
}

}  // namespace

int main() {
  const Config configs[] = {{"4K only", false, false}, {"4K+2M", true, false}, {"4K+2M+1G", true, true}};
  const uint64_t sizes[] = {64 * kMiB, 1 * kGiB, 4 * kGiB};
  printf("EPT table pages (4 KiB each, root included); leaves as 4K/2M/1G\n");
  printf("%-10s", "guest RAM");
  for (const Config& c : configs) printf(" | %-24s", c.name);
  printf("\n");
  int rc = 0;
  for (uint64_t size : sizes) {
    if (size >= kGiB)
      printf("%6llu GiB", static_cast<unsigned long long>(size / kGiB));
    else
      printf("%6llu MiB", static_cast<unsigned long long>(size / kMiB));
    for (const Config& c : configs) {
      const Figures f = build(size, c);
      if (f.table_pages == 0) rc = 1;
      char leaves[40];
      snprintf(leaves, sizeof leaves, "%llu/%llu/%llu", static_cast<unsigned long long>(f.leaves[0]),
               static_cast<unsigned long long>(f.leaves[1]), static_cast<unsigned long long>(f.leaves[2]));
      printf(" | %5llu pages %-12s", static_cast<unsigned long long>(f.table_pages), leaves);
    }
    printf("\n");
  }
  return rc;
}
