// Per-CPU data, reached through IA32_GS_BASE (one record per logical CPU).
//
// While the VMM runs, IA32_GS_BASE holds this CPU's record; while a
// service-partition process runs in ring 3, the record's address waits in
// IA32_KERNEL_GS_BASE and IA32_GS_BASE is the process's (SWAPGS discipline,
// vmm/partition/entry.S; docs/security.md, "Ring 3 to ring 0"). Ring 3 can
// load GS's base only through a selector (CR4.FSGSBASE stays clear, so no
// WRGSBASE) and can never reach IA32_KERNEL_GS_BASE.
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
  // Service partition (vmm/partition/entry.S reads these by offset).
  uint64_t user_rsp;       // 40: the user RSP while a system call runs
  uint64_t kernel_stack;   // 48: top of this CPU's stack for system calls and user faults
  void* user_context;      // 56: the running process's saved registers
  uint64_t vmm_rsp;        // 64: the VMM's RSP inside partition_enter
  uint64_t vmm_cr3;        // 72: the VMM's page tables (set before any process runs)
  uint64_t user_cr3;       // 80: the running process's page tables
  uint64_t saved_kernel_gs_base;  // 88: IA32_KERNEL_GS_BASE of whoever ran before the process (a guest's SWAPGS uses it)
  char vmx_report[160];     // one line: why VMX is or is not usable here
};
static_assert(__builtin_offsetof(PerCpu, user_rsp) == 40);
static_assert(__builtin_offsetof(PerCpu, kernel_stack) == 48);
static_assert(__builtin_offsetof(PerCpu, user_context) == 56);
static_assert(__builtin_offsetof(PerCpu, vmm_rsp) == 64);
static_assert(__builtin_offsetof(PerCpu, vmm_cr3) == 72);
static_assert(__builtin_offsetof(PerCpu, user_cr3) == 80);
static_assert(__builtin_offsetof(PerCpu, saved_kernel_gs_base) == 88);

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
