// Per-CPU data, reached through IA32_GS_BASE (one record per logical CPU).
#pragma once
#include <stdint.h>

namespace mamori {

inline constexpr unsigned kMaxCpus = 64;

enum class CpuState : uint32_t { Absent, Starting, Online, VmxRoot, NoVmx, Failed, Stopped };

struct PerCpu {
  PerCpu* self;        // at %gs:0, so this_cpu() is one load
  uint32_t index;      // 0 = bootstrap processor
  uint32_t apic_id;
  CpuState state;
  uint32_t reserved;
  uint64_t vmxon_region;   // physical, 0 if not in VMX operation
  uint64_t stack_top;
  char vmx_report[160];     // one line: why VMX is or is not usable here
};

extern PerCpu g_cpus[kMaxCpus];
extern uint32_t g_cpu_count;   // CPUs listed by the MADT (enabled ones)

inline PerCpu& this_cpu() {
  PerCpu* p;
  asm volatile("mov %%gs:0, %0" : "=r"(p));
  return *p;
}
// Safe before GS is set up (then it reports CPU 0).
uint32_t this_cpu_index();
void percpu_install(PerCpu& cpu);

}  // namespace mamori
