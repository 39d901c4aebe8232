#include "vmm/arch/xcr0.hpp"

namespace mamori::arch {
namespace {
bool all_or_none(uint64_t value, uint64_t group) { return (value & group) == 0 || (value & group) == group; }
constexpr uint64_t kGroups[] = {kXcr0Mpx, kXcr0Avx512, kXcr0Amx};  // bits that go together
}  // namespace

bool xcr0_consistent(uint64_t value) {
  if (!(value & kXcr0X87)) return false;                          // XCR0[0] must be 1
  if ((value & kXcr0Avx) && !(value & kXcr0Sse)) return false;    // XCR0[2:1] = 10b
  if (!all_or_none(value, kXcr0Mpx)) return false;                // XCR0[4:3] = 01b or 10b
  if (!all_or_none(value, kXcr0Avx512)) return false;             // XCR0[7:5] not 000b or 111b
  if ((value & kXcr0Avx512) && !(value & kXcr0Avx)) return false; // XCR0[7:5] = 111b needs XCR0[2:1] = 11b
  if (!all_or_none(value, kXcr0Amx)) return false;                // XCR0[18:17] = 01b or 10b
  if (value & kXssOnly) return false;                             // supervisor state is IA32_XSS's
  return true;
}

bool xcr0_allowed(uint64_t value, uint64_t allowed) { return xcr0_consistent(value) && !(value & ~allowed); }

uint32_t xsave_area_bytes(const XsaveCpu& cpu, uint64_t mask) {
  uint32_t end = kXsaveLegacyBytes + kXsaveHeaderBytes;
  for (unsigned i = 2; i < kXsaveComponents; ++i) {
    if (!(mask & (1ull << i))) continue;
    if (cpu.size[i] == 0) return 0;
    uint32_t e = cpu.offset[i] + cpu.size[i];
    if (e < cpu.offset[i]) return 0;  // wraps: not a real CPUID answer
    if (e > end) end = e;
  }
  if (mask >> kXsaveComponents) return 0;  // a component this table does not know
  return end;
}

uint64_t vmm_xcr0_mask(const XsaveCpu& cpu, uint32_t max_area_bytes) {
  uint64_t m = cpu.xcr0_supported & kXcr0Managed;
  m |= kXcr0X87 | kXcr0Sse;
  // Whole groups only: a CPU reporting half a pair gets neither.
  for (uint64_t group : kGroups)
    if (!all_or_none(m, group)) m &= ~group;
  if (!(m & kXcr0Avx)) m &= ~kXcr0Avx512;
  // Every component must have a reported size (CPUID sub-leaf i).
  for (unsigned i = 2; i < kXsaveComponents; ++i)
    if ((m & (1ull << i)) && cpu.size[i] == 0) {
      uint64_t bit = 1ull << i;
      for (uint64_t group : kGroups)
        if (group & bit) m &= ~group;
      m &= ~bit;
      if (bit == kXcr0Avx) m &= ~kXcr0Avx512;
    }
  const uint64_t drop_order[] = {kXcr0Amx, kXcr0Avx512, kXcr0Mpx, kXcr0Pkru, kXcr0Avx};
  for (uint64_t group : drop_order) {
    uint32_t bytes = xsave_area_bytes(cpu, m);
    if (bytes != 0 && bytes <= max_area_bytes) break;
    m &= ~group;
  }
  return m;
}

}  // namespace mamori::arch
