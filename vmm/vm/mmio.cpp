#include "mmio.hpp"
#include "vmm/vm/guest.hpp"

namespace mamori::vm {

bool add_mmio_region(Guest& g, uint64_t gpa, uint64_t size, MmioDevice& dev, const char* name) {
  if (g.mmio_count == kMaxMmioRegions || size == 0 || gpa + size < gpa) return false;
  for (unsigned i = 0; i < g.mmio_count; ++i) {
    const MmioRegion& r = g.mmio[i];
    if (gpa < r.gpa + r.size && r.gpa < gpa + size) return false;  // overlap
  }
  // RAM is mapped: accesses would never fault.
  constexpr uint64_t k4G = 1ull << 32;
  if (gpa < g.low_ram || (gpa + size > k4G && gpa < k4G + g.high_ram)) return false;
  g.mmio[g.mmio_count++] = MmioRegion{gpa, size, &dev, name, 0};
  return true;
}

MmioRegion* find_mmio_region(Guest& g, uint64_t gpa) {
  for (unsigned i = 0; i < g.mmio_count; ++i)
    if (gpa >= g.mmio[i].gpa && gpa - g.mmio[i].gpa < g.mmio[i].size) return &g.mmio[i];
  return nullptr;
}

}  // namespace mamori::vm
