// bench: the round-trip cost of the exits the VMM handles most, as the
// guest sees it: TSC ticks per CPUID (hypervisor leaf), VMCALL (version),
// IN from the virtual UART's LSR, against the same loop around a
// non-exiting instruction. Under Bochs the TSC advances once per emulated
// instruction of this CPU (ips = TSC rate), so ticks per exit minus the
// baseline estimate the instructions spent outside the guest per exit
// (VM exit + VMM handler + VM entry). docs/benchmarks.md.
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "bench";

namespace {
// A power of two, so the average is a shift: 32-bit code has no 64-bit
// division without libgcc (docs/guests.md).
constexpr uint32_t kRoundsLog2 = 11;
constexpr uint32_t kRounds = 1u << kRoundsLog2;
constexpr uint32_t kRepeats = 3;  // best of three: a slice end costs a whole switch
constexpr uint32_t kHvLeaf = 0x40000001;

template <typename Op>
uint64_t ticks_per_op(Op op) {
  uint64_t best = ~0ull;
  for (uint32_t r = 0; r < kRepeats; ++r) {
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < kRounds; ++i) op();
    uint64_t t = rdtsc() - t0;
    if (t < best) best = t;
  }
  return best >> kRoundsLog2;
}
}  // namespace

void main() {
  if (!mamori_present()) {
    print("bench: not under mamori: nothing to measure\n");
    return;
  }
  // The loop body of every measurement has the same shape: one
  // instruction under test plus the loop's own increment/compare/branch.
  uint64_t base = ticks_per_op([] { asm volatile("xor %%eax, %%eax" ::: "eax"); });
  uint64_t cpuid_t = ticks_per_op([] {
    uint32_t a = kHvLeaf, b, c = 0, d;
    asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  });
  uint64_t vmcall_t = ticks_per_op([] {
    uint32_t a = 0;
    asm volatile("vmcall" : "+a"(a) : : "memory");
  });
  uint64_t io_t = ticks_per_op([] { (void)inb(kUartLsr); });
  print("bench: rounds %u, TSC ticks per operation (best of %u)\n", kRounds, kRepeats);
  print("bench: baseline %llu\n", base);
  print("bench: cpuid %llu (+%llu)\n", cpuid_t, cpuid_t - base);
  print("bench: vmcall %llu (+%llu)\n", vmcall_t, vmcall_t - base);
  print("bench: io %llu (+%llu)\n", io_t, io_t - base);
}

}  // namespace guest
