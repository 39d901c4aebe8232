// spin: burns CPU forever and prints a heartbeat every `spin` iterations
// of a two-instruction loop, with the TSC ticks since the previous line so
// a fairness test can see how much of the CPU it got. Never exits.
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "spin";

namespace {
// Each iteration is DEC + JNZ (2 instructions). At Bochs's ~10 million
// instructions per second, 7.5 M iterations = 15 M instructions ≈ 1.5 s.
constexpr uint32_t kDefaultIterations = 7500000;

void burn(uint32_t iterations) {
  asm volatile("1: dec %0\n\tjnz 1b" : "+r"(iterations) : : "cc");
}
}  // namespace

void main() {
  uint32_t n = option("spin", kDefaultIterations);
  if (n == 0) n = 1;   // DEC from 0 would run 2^32 iterations
  print("spin: %u iterations per heartbeat\n", n);
  uint64_t last = rdtsc();
  for (uint32_t beat = 1;; ++beat) {
    burn(n);
    const uint64_t now = rdtsc();
    print("spin: heartbeat %u (tsc +%llu)\n", beat, now - last);
    last = now;
  }
}

}  // namespace guest
