// The MMIO/string emulation driver under a hostile guest: any instruction
// bytes, registers, flags, control registers, CPL and page tables, any
// fault. Invariants: no crash/UB; guest RAM is read and written only inside
// the RAM given (ASan also sees the exact-size buffer); the device only
// within its window with sizes 1/2/4/8; the work per call is bounded
// (kMaxStringElementsPerExit elements, a fixed number of calls each); the
// result is consistent (Done moves RIP, Partial/Inject/Retry keep it, a #PF
// has CR2 and an error code, a stop has a reason); registers a string
// instruction does not own are untouched.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "vmm/emulate/mmio_emulator.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"
#include "tests/fuzz/support/fuzz_input.hpp"

using namespace mamori::emulate;

namespace {
constexpr uint64_t kWindowGpa = 0x20000, kWindowSize = 0x5000;
constexpr uint64_t kMaxCalls = kMaxStringElementsPerExit * 64 + 1024;

uint64_t g_calls;

struct Ram final : GuestRam {
  std::vector<uint8_t> b;
  bool contains(uint64_t gpa, size_t n) const override { return gpa < b.size() && n <= b.size() - gpa; }
  bool read(uint64_t gpa, uint8_t* dst, size_t n) override {
    ++g_calls;
    FUZZ_ASSERT(n >= 1 && n <= 8);
    if (!contains(gpa, n)) return false;
    memcpy(dst, b.data() + gpa, n);
    return true;
  }
  bool write(uint64_t gpa, const uint8_t* src, size_t n) override {
    ++g_calls;
    FUZZ_ASSERT(n >= 1 && n <= 8);
    FUZZ_ASSERT(contains(gpa, n));  // the emulator checks before it writes
    memcpy(b.data() + gpa, src, n);
    return true;
  }
};

struct Device final : MmioDevice {
  uint64_t seed = 0;
  uint64_t accesses = 0;
  static void check(uint64_t off, uint8_t size) {
    FUZZ_ASSERT(size == 1 || size == 2 || size == 4 || size == 8);
    FUZZ_ASSERT(off < kWindowSize && size <= kWindowSize - off);
  }
  uint64_t mmio_read(uint64_t off, uint8_t size) override {
    check(off, size);
    ++g_calls;
    ++accesses;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed;  // a device may answer anything, even bits above `size`
  }
  void mmio_write(uint64_t off, uint8_t size, uint64_t) override {
    check(off, size);
    ++g_calls;
    ++accesses;
  }
};

using Input = mamori::fuzz::FuzzInput;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  VcpuState s;
  const uint64_t sel = in.take(2);
  // Control registers from their meaningful bits: PE, WP, PG; PSE, PAE,
  // SMEP, SMAP, LA57; LME/LMA, NXE.
  s.paging.cr0 = (sel & 1 ? 1 : 0) | (sel & 2 ? 1ull << 16 : 0) | (sel & 4 ? 1ull << 31 : 0);
  s.paging.cr4 = (sel & 8 ? 1ull << 4 : 0) | (sel & 16 ? 1ull << 5 : 0) | (sel & 32 ? 1ull << 20 : 0) |
                 (sel & 64 ? 1ull << 21 : 0) | (sel & 0x8000 ? 1ull << 12 : 0);
  s.paging.efer = (sel & 128 ? (1ull << 8) | (1ull << 10) : 0) | (sel & 256 ? 1ull << 11 : 0);
  s.cs_access_rights = (sel & 512 ? 1u << 13 : 0) | (sel & 1024 ? 1u << 14 : 0);
  s.cpl = (sel >> 11) & 3;
  s.rflags = 2 | (sel & 0x2000 ? 1ull << 10 : 0) | (sel & 0x4000 ? 1ull << 18 : 0);
  s.paging.cr3 = in.take(2) & 0xF000;
  for (uint64_t& b : s.segment_base) b = in.take(1) << 12;
  s.rip = in.take(2);
  mamori::arch::Gprs regs{};
  for (unsigned i = 0; i < mamori::arch::kNumGprs; ++i) regs.gpr[i] = in.take(1) & 1 ? kWindowGpa + in.take(2) : in.take(8);
  const uint64_t f_sel = in.take(3);
  MmioFault f;
  f.gpa = kWindowGpa + (f_sel & 0x7FFF) % kWindowSize;
  f.write = f_sel & 0x8000;
  f.read = !f.write;
  f.fetch = (f_sel >> 16) == 0xFF;
  f.during_event_delivery = (f_sel >> 16) == 0xFE;

  Ram ram;
  ram.b.assign(in.p, in.p + (in.n < 0x18000 ? in.n : 0x18000));  // guest RAM below the window
  Device dev;
  dev.seed = f_sel;
  MmioWindow w{kWindowGpa, kWindowSize, &dev, 0};
  const mamori::arch::Gprs before = regs;
  g_calls = 0;
  Emulation r = emulate_mmio(s, f, regs, ram, w);
  FUZZ_ASSERT(g_calls <= kMaxCalls);
  FUZZ_ASSERT(r.elements <= kMaxStringElementsPerExit);
  FUZZ_ASSERT(w.accesses <= r.elements + 1);
  switch (r.outcome) {
    case Outcome::Done: break;
    case Outcome::Partial:
      FUZZ_ASSERT(r.rip == s.rip && r.elements > 0);
      break;
    case Outcome::Retry:
      FUZZ_ASSERT(r.rip == s.rip && dev.accesses == 0);
      break;
    case Outcome::Inject:
      FUZZ_ASSERT(r.event.vector == kVectorUd || r.event.vector == kVectorGp || r.event.vector == kVectorSs ||
                  r.event.vector == kVectorPf);
      if (r.event.vector == kVectorPf) FUZZ_ASSERT(r.event.page_fault && r.event.has_error_code && r.event.cr2 == r.linear);
      FUZZ_ASSERT((r.event.error_code & ~0x1Fu) == 0);
      break;
    case Outcome::Stop:
      FUZZ_ASSERT(r.stop != StopReason::None);
      (void)describe(r.stop);
      break;
  }
  if (r.outcome != Outcome::Done && r.outcome != Outcome::Partial && r.outcome != Outcome::Inject) {
    for (unsigned i = 0; i < mamori::arch::kNumGprs; ++i) FUZZ_ASSERT(regs.gpr[i] == before.gpr[i]);
  }
  // A string instruction changes only rSI, rDI and rCX; a load one register.
  unsigned changed = 0;
  for (unsigned i = 0; i < mamori::arch::kNumGprs; ++i) changed += regs.gpr[i] != before.gpr[i];
  FUZZ_ASSERT(changed <= 3);
  return 0;
}
