#include "percpu.hpp"
#include "vmm/arch/cpu.hpp"

namespace mamori {

// In the entry area (vmm/link.ld): the entry stubs read it while a
// process's tables are live.
[[gnu::section(".bss.entry_area")]] PerCpu g_cpus[kMaxCpus];
uint32_t g_cpu_count = 1;
namespace {
bool g_gs_ready;
}

void percpu_install(PerCpu& c) {
  c.self = &c;
  cpu::wrmsr(cpu::msr::kGsBase, reinterpret_cast<uint64_t>(&c));
  g_gs_ready = true;
}

uint32_t this_cpu_index() {
  // Early on (before the BSP installs GS) everything runs on the BSP; an AP
  // installs its record before it logs anything.
  if (!g_gs_ready) return 0;
  return this_cpu().index;
}

}  // namespace mamori
