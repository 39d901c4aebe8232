// Thin wrappers over privileged instructions: the only place in the VMM
// where they appear as inline assembly. Everything above uses these.
#pragma once
#include <stdint.h>

namespace mamori::cpu {

struct CpuidResult { uint32_t eax, ebx, ecx, edx; };

inline CpuidResult cpuid(uint32_t leaf, uint32_t sub = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
  return r;
}
inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)) : "memory");
}
// RDRAND (SDM 2, CPUID.01H:ECX[30]). It may fail transiently (CF = 0);
// Intel's DRNG guide says to retry a few times.
inline bool has_rdrand() { return (cpuid(1).ecx & (1u << 30)) != 0; }
inline bool rdrand64(uint64_t& out, int tries) {
  for (int i = 0; i < tries; ++i) {
    uint8_t ok;
    uint64_t r;
    asm volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
    if (ok) {
      out = r;
      return true;
    }
  }
  return false;
}

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
inline uint16_t inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define MAMORI_CR(n)                                                                     \
  inline uint64_t read_cr##n() { uint64_t v; asm volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
  inline void write_cr##n(uint64_t v) { asm volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
MAMORI_CR(0)
MAMORI_CR(2)
MAMORI_CR(3)
MAMORI_CR(4)
MAMORI_CR(8)  // the local APIC TPR[7:4] (SDM 3A §10.8.6.1)
#undef MAMORI_CR

inline uint64_t read_rflags() { uint64_t v; asm volatile("pushfq; pop %0" : "=r"(v)); return v; }
inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
inline void pause() { asm volatile("pause"); }
inline void halt() { asm volatile("hlt" ::: "memory"); }
inline void invlpg(uint64_t va) { asm volatile("invlpg (%0)" ::"r"(va) : "memory"); }
[[noreturn]] inline void halt_forever() {
  for (;;) asm volatile("cli; hlt" ::: "memory");
}

// Architectural MSRs (SDM 4, Table 2-2).
namespace msr {
inline constexpr uint32_t kFeatureControl = 0x3A;
inline constexpr uint32_t kApicBase = 0x1B;
inline constexpr uint32_t kEfer = 0xC0000080;
inline constexpr uint32_t kFsBase = 0xC0000100;
inline constexpr uint32_t kGsBase = 0xC0000101;
inline constexpr uint32_t kVmxBasic = 0x480;
}  // namespace msr

// Control-register bits (SDM 3A §2.5).
namespace cr0 { inline constexpr uint64_t kWriteProtect = 1ull << 16; }
namespace cr4 { inline constexpr uint64_t kVmxEnable = 1ull << 13; }
namespace efer { inline constexpr uint64_t kNxEnable = 1ull << 11; }

}  // namespace mamori::cpu
