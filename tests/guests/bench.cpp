// bench: guest-measured cost of the common exits (issue 3, "Measure"):
// TSC ticks per CPUID, VMCALL, I/O-port and RDMSR round trip, each loop
// against the same loop with a non-exiting instruction. Prints
//   bench: <exit> <ticks> ticks/exit (<raw> per iteration - <loop> loop), n=<N>
// and "bench: DONE", then exits with status 0. Option n=N (VM name
// "bench-nN") sets the iterations (default 1000). Under Bochs with
// ips = TSC rate (emu.Bochs: 10 M and 10 MHz) one tick is one emulated
// instruction, so ticks/exit estimates the instructions per exit (guest
// entry/exit included).
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "bench";

namespace {

constexpr uint32_t kDefaultIterations = 1000;
constexpr uint32_t kMsrTsc = 0x10;          // on mamori's RDMSR allowlist (docs/guests.md A2)
constexpr uint16_t kUnassignedPort = 0x300; // no device: reads all ones (I/O policy)

// Each loop body is one instruction (plus DEC/JNZ) so the loop overhead
// is the same in every measurement.
uint64_t loop_nop(uint32_t n) {
  const uint64_t t0 = rdtsc();
  asm volatile("1: nop\n\tdec %0\n\tjnz 1b" : "+r"(n) : : "cc");
  return rdtsc() - t0;
}
uint64_t loop_cpuid(uint32_t n) {
  const uint64_t t0 = rdtsc();
  asm volatile("1: mov %1, %%eax\n\tcpuid\n\tdec %%esi\n\tjnz 1b"
               : "+S"(n) : "i"(kCpuidHvInfo) : "eax", "ebx", "ecx", "edx", "cc");
  return rdtsc() - t0;
}
uint64_t loop_vmcall(uint32_t n) {
  const uint64_t t0 = rdtsc();
  asm volatile("1: mov %1, %%eax\n\tvmcall\n\tdec %%esi\n\tjnz 1b"
               : "+S"(n) : "i"(kHcVersion) : "eax", "ebx", "ecx", "edx", "cc", "memory");
  return rdtsc() - t0;
}
uint64_t loop_in(uint32_t n, uint16_t port) {
  const uint64_t t0 = rdtsc();
  asm volatile("1: inb %w1, %%al\n\tdec %0\n\tjnz 1b" : "+r"(n) : "d"(port) : "eax", "cc");
  return rdtsc() - t0;
}
uint64_t loop_rdmsr(uint32_t n) {
  const uint64_t t0 = rdtsc();
  asm volatile("1: mov %1, %%ecx\n\trdmsr\n\tdec %%esi\n\tjnz 1b"
               : "+S"(n) : "i"(kMsrTsc) : "eax", "ecx", "edx", "cc");
  return rdtsc() - t0;
}

void report(const char* what, uint64_t total, uint64_t loop_total, uint32_t n) {
  const uint64_t per = udiv64(total, n), loop = udiv64(loop_total, n);
  print("bench: %s %llu ticks/exit (%llu per iteration - %llu loop), n=%u\n", what,
        per > loop ? per - loop : 0, per, loop, n);
}

}  // namespace

void main() {
  uint32_t n = option("n", kDefaultIterations);
  if (n == 0) n = 1;   // DEC from 0 would run 2^32 iterations
  // Warm up (first-access logging of the port, caches), then measure.
  (void)loop_in(1, kUnassignedPort);
  const uint64_t base = loop_nop(n);
  print("bench: loop %llu ticks/iteration (nop), n=%u\n", udiv64(base, n), n);
  report("cpuid", loop_cpuid(n), base, n);
  if (mamori_present()) {
    report("vmcall", loop_vmcall(n), base, n);
    report("in-uart-lsr", loop_in(n, kUartLsr), base, n);
    report("in-unassigned-port", loop_in(n, kUnassignedPort), base, n);
    report("rdmsr-tsc", loop_rdmsr(n), base, n);
  }
  print("bench: DONE\n");
  exit(0);
}

}  // namespace guest
