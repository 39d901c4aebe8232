#include "paging.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/mem/frames.hpp"

namespace mamori::mem {
namespace {
// x86-64 paging entries, SDM 3A §4.5 (Tables 4-15 to 4-20).
constexpr uint64_t kPresent = 1ull << 0, kWritable = 1ull << 1, kLarge = 1ull << 7, kNx = 1ull << 63;
constexpr uint64_t kAddr = 0x000FFFFFFFFFF000ull;
constexpr uint64_t k2M = 2ull << 20, k1G = 1ull << 30;

uint64_t* entries(uint64_t table_phys) { return phys_to_virt<uint64_t>(table_phys & kAddr); }

// Replaces a large leaf (covering `span` bytes) by a table of 512 leaves
// of span/512 with the same rights.
bool split(uint64_t& e, uint64_t span) {
  uint64_t t = alloc_frame();
  if (!t) return false;
  uint64_t child = span / 512;
  uint64_t base = e & kAddr & ~(span - 1);
  uint64_t rights = e & (kWritable | kNx | kPresent);
  for (unsigned i = 0; i < 512; ++i)
    entries(t)[i] = (base + i * child) | rights | (child > 4096 ? kLarge : 0);
  e = t | kPresent | kWritable;
  return true;
}
}  // namespace

bool protect_identity(uint64_t phys, uint64_t size, Access access) {
  bool w = access == Access::ReadWrite || access == Access::FirmwareReadWriteExecute;
  bool x = access == Access::ReadExecute || access == Access::FirmwareReadWriteExecute;
  uint64_t rights = kPresent | (w ? kWritable : 0) | (x ? 0 : kNx);
  for (uint64_t pa = phys & ~(kFrameSize - 1); pa < phys + size; pa += kFrameSize) {
    uint64_t& l4 = entries(cpu::read_cr3())[(pa >> 39) & 511];
    if (!(l4 & kPresent)) return false;
    uint64_t& l3 = entries(l4)[(pa >> 30) & 511];
    if (!(l3 & kPresent)) return false;
    if ((l3 & kLarge) && !split(l3, k1G)) return false;
    uint64_t& l2 = entries(l3)[(pa >> 21) & 511];
    if (!(l2 & kPresent)) return false;
    if ((l2 & kLarge) && !split(l2, k2M)) return false;
    uint64_t& l1 = entries(l2)[(pa >> 12) & 511];
    l1 = (pa & kAddr) | rights;
    cpu::invlpg(pa);
  }
  return true;
}

}  // namespace mamori::mem
