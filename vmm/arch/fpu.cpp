#include "vmm/arch/fpu.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/xcr0.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/percpu.hpp"

namespace mamori::arch::fpu {
namespace {
constexpr uint32_t kCpuid1EcxXsave = 1u << 26;
constexpr uint64_t kCr4Osxsave = 1ull << 18;
constexpr uint32_t kCpuidXsave = 0xD;
// Largest save area the VMM gives a context: four frames. AMX (11 KiB
// with AVX-512) fits; a future component that does not is not offered.
constexpr uint32_t kMaxAreaBytes = 4 * 4096;
constexpr uint32_t kFxsaveBytes = 512;
// Legacy-region fields (SDM 1 Table 10-2 / §13.4.1).
constexpr unsigned kFcwOffset = 0, kMxcsrOffset = 24;
constexpr uint16_t kFcwInit = 0x037F;    // FNINIT's control word (SDM 1 §8.1.5)
constexpr uint32_t kMxcsrInit = 0x1F80;  // all exceptions masked, round to nearest (SDM 1 §10.2.3.1)

struct Layout {
  bool done = false;
  bool xsave = false;
  uint64_t mask = kXcr0X87 | kXcr0Sse;
  uint32_t bytes = kFxsaveBytes;
  XsaveCpu cpu;
};
Layout g_layout;
// The init image: legacy region with FCW/MXCSR at their init values and an
// all-zero XSAVE header (XSTATE_BV = 0, XCOMP_BV = 0: standard form, every
// component initialised). As large as any area, so XRSTOR never reads
// past it whatever the processor fetches.
alignas(4096) uint8_t g_init_area[kMaxAreaBytes];
// XCR0 as each CPU has it now (0: not known yet, forces the first XSETBV).
uint64_t g_cpu_xcr0[kMaxCpus];

const Layout& layout() {
  Layout& l = g_layout;
  if (l.done) return l;  // first computed on the BSP before any AP runs guests
  if (cpu::cpuid(1).ecx & kCpuid1EcxXsave) {
    cpu::CpuidResult d = cpu::cpuid(kCpuidXsave, 0);
    l.cpu.xcr0_supported = (static_cast<uint64_t>(d.edx) << 32) | d.eax;
    l.cpu.size_all = d.ecx;
    for (unsigned i = 2; i < kXsaveComponents; ++i) {
      if (!(l.cpu.xcr0_supported & (1ull << i))) continue;
      cpu::CpuidResult s = cpu::cpuid(kCpuidXsave, i);
      l.cpu.size[i] = s.eax;
      l.cpu.offset[i] = s.ebx;
    }
    l.mask = vmm_xcr0_mask(l.cpu, kMaxAreaBytes);
    l.bytes = xsave_area_bytes(l.cpu, l.mask);
    l.xsave = l.bytes != 0;
    if (!l.xsave) {
      l.mask = kXcr0X87 | kXcr0Sse;
      l.bytes = kFxsaveBytes;
    }
  }
  g_init_area[kFcwOffset] = kFcwInit & 0xFF;
  g_init_area[kFcwOffset + 1] = kFcwInit >> 8;
  for (unsigned i = 0; i < 4; ++i) g_init_area[kMxcsrOffset + i] = static_cast<uint8_t>(kMxcsrInit >> (8 * i));
  l.done = true;
  LOG_INFO("fpu: %s, components 0x%lx switched per guest and engine (CPU has 0x%lx), %u-byte save areas",
           l.xsave ? "XSAVE" : "FXSAVE", l.mask, l.cpu.xcr0_supported, l.bytes);
  return l;
}

// XSAVE needs CR4.OSXSAVE on this CPU (SDM 2 XSAVE: #UD otherwise).
uint64_t& this_cpu_xcr0() {
  uint64_t& x = g_cpu_xcr0[this_cpu_index()];
  if (x == 0 && !(cpu::read_cr4() & kCr4Osxsave)) cpu::write_cr4(cpu::read_cr4() | kCr4Osxsave);
  return x;
}
void xsetbv(uint64_t v) {
  asm volatile("xsetbv" ::"c"(0), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)));
}
// XCR0 = the full mask, so XSAVE/XRSTOR's requested-feature bitmap
// (XCR0 AND EDX:EAX, SDM 1 §13.7) covers every managed component.
void full_xcr0() {
  uint64_t& x = this_cpu_xcr0();
  if (x != g_layout.mask) {
    xsetbv(g_layout.mask);
    x = g_layout.mask;
  }
}
void xrstor(const void* area) {
  const uint64_t m = g_layout.mask;
  asm volatile("xrstor64 (%0)" ::"r"(area), "a"(static_cast<uint32_t>(m)), "d"(static_cast<uint32_t>(m >> 32))
               : "memory");
}
}  // namespace

uint64_t mask() { return layout().mask; }
bool has_xsave() { return layout().xsave; }
uint32_t area_bytes() { return layout().bytes; }
uint64_t area_frames() { return (layout().bytes + 4095) / 4096; }
uint32_t area_bytes_for(uint64_t xcr0) {
  const Layout& l = layout();
  return l.xsave ? xsave_area_bytes(l.cpu, xcr0 & l.mask) : kFxsaveBytes;
}

void save(uint64_t area) {
  void* p = mem::phys_to_virt<void>(area);
  if (!layout().xsave) {
    asm volatile("fxsave64 (%0)" ::"r"(p) : "memory");
    return;
  }
  full_xcr0();
  const uint64_t m = g_layout.mask;
  asm volatile("xsave64 (%0)" ::"r"(p), "a"(static_cast<uint32_t>(m)), "d"(static_cast<uint32_t>(m >> 32)) : "memory");
}

void restore(uint64_t area) {
  const void* p = mem::phys_to_virt<const void>(area);
  if (!layout().xsave) {
    asm volatile("fxrstor64 (%0)" ::"r"(p) : "memory");
    return;
  }
  full_xcr0();
  xrstor(p);
}

void load_init() {
  if (!layout().xsave) {
    // FXRSTOR loads every x87/SSE register from the image: zeros, FCW
    // 037FH, MXCSR 1F80H, all tags empty (abridged FTW 0).
    asm volatile("fxrstor64 (%0)" ::"r"(g_init_area) : "memory");
    return;
  }
  full_xcr0();
  xrstor(g_init_area);
}

void set_xcr0(uint64_t xcr0) {
  if (!layout().xsave) return;
  uint64_t& x = this_cpu_xcr0();
  if (x != xcr0) {
    xsetbv(xcr0);
    x = xcr0;
  }
}

}  // namespace mamori::arch::fpu
