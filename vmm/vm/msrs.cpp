// RDMSR and WRMSR exits (docs/guest-abi.md, "MSRs"): the table of
// vmm/vcpu/msr_table decides; the physically switched MSRs follow
// vmm/vm/vcpu_msrs.hpp.
#include "vmm/vm/vcpu_msrs.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/percpu.hpp"
#include "vmm/vm/exit_handlers.hpp"

namespace mamori::vm {
namespace {
namespace m = vcpu::msr;

struct SwitchedMsr {
  uint32_t msr;
  uint64_t vcpu::MsrState::*field;
};
constexpr SwitchedMsr kSwitched[] = {
    {m::kStar, &vcpu::MsrState::star},          {m::kLstar, &vcpu::MsrState::lstar},
    {m::kSfmask, &vcpu::MsrState::sfmask},      {m::kKernelGsBase, &vcpu::MsrState::kernel_gs_base},
    {m::kTscAux, &vcpu::MsrState::tsc_aux},     {m::kSpecCtrl, &vcpu::MsrState::spec_ctrl},
};
constexpr unsigned kSwitchedCount = sizeof kSwitched / sizeof kSwitched[0];
constexpr unsigned kKgsIndex = 3;

// What the host CPU offers (SDM Vol. 2A CPUID leaf 07H EDX, 80000001H
// EDX, 80000008H EAX), read once.
const vcpu::MsrFeatures& features() {
  static vcpu::MsrFeatures f;
  static bool done;
  if (!done) {
    const uint32_t edx7 = cpu::cpuid(0).eax >= 7 ? cpu::cpuid(7, 0).edx : 0;
    f.ibrs_ibpb = edx7 & (1u << 26);
    f.stibp = edx7 & (1u << 27);
    f.arch_capabilities = edx7 & (1u << 29);
    f.ssbd = edx7 & (1u << 31);
    if (f.arch_capabilities) f.host_arch_capabilities = cpu::rdmsr(m::kArchCapabilities);
    const uint32_t max_ext = cpu::cpuid(0x80000000).eax;
    const bool rdtscp = max_ext >= 0x80000001 && (cpu::cpuid(0x80000001).edx & (1u << 27));
    // The guest's CPUID offers RDTSCP/RDPID only with the VMCS control (vm/cpuid.cpp).
    f.tsc_aux = rdtscp && cpu_vmx::capabilities() && cpu_vmx::capabilities()->can(vmx::Proc2Ctl::enable_rdtscp);
    f.tsc_hz = drivers::tsc::hz();
    if (max_ext >= 0x80000008) {
      const uint32_t a = cpu::cpuid(0x80000008).eax;
      f.phys_bits = a & 0xFF;
      f.virt_bits = (a >> 8) & 0xFF;
    }
    done = true;
  }
  return f;
}

bool switched_exists(unsigned i) {
  const vcpu::MsrFeatures& f = features();
  if (kSwitched[i].msr == m::kTscAux) return f.tsc_aux;
  if (kSwitched[i].msr == m::kSpecCtrl) return f.ibrs_ibpb || f.stibp || f.ssbd;
  return true;
}

// Per CPU: whose values the switched MSRs hold, and what they hold.
struct CpuMsrs {
  Guest* owner = nullptr;
  bool host_saved = false;
  uint64_t host[kSwitchedCount] = {};
  uint64_t loaded[kSwitchedCount] = {};
};
CpuMsrs g_cpu_msrs[kMaxCpus];

CpuMsrs& this_cpu_msrs() {
  CpuMsrs& c = g_cpu_msrs[this_cpu_index() % kMaxCpus];
  if (!c.host_saved) {  // the first guest on this CPU: after init_partition_cpu set the host's
    for (unsigned i = 0; i < kSwitchedCount; ++i)
      if (switched_exists(i)) c.host[i] = c.loaded[i] = cpu::rdmsr(kSwitched[i].msr);
    c.host_saved = true;
  }
  return c;
}

// The owner's SWAPGS may have changed IA32_KERNEL_GS_BASE in the CPU.
void read_back_owner(CpuMsrs& c) {
  if (!c.owner) return;
  c.loaded[kKgsIndex] = cpu::rdmsr(m::kKernelGsBase);
  c.owner->msrs.state.kernel_gs_base = c.loaded[kKgsIndex];
}

void write_if_different(CpuMsrs& c, unsigned i, uint64_t v) {
  if (!switched_exists(i) || c.loaded[i] == v) return;
  cpu::wrmsr(kSwitched[i].msr, v);
  c.loaded[i] = v;
}

int switched_index(uint32_t msr) {
  for (unsigned i = 0; i < kSwitchedCount; ++i)
    if (kSwitched[i].msr == msr) return static_cast<int>(i);
  return -1;
}
}  // namespace

void load_guest_msrs(Guest& g) {
  CpuMsrs& c = this_cpu_msrs();
  if (c.owner == &g && !g.msrs.fresh) return;  // still in the CPU
  if (c.owner != &g) read_back_owner(c);
  else c.loaded[kKgsIndex] = cpu::rdmsr(m::kKernelGsBase);  // reloaded: what its SWAPGS left is stale
  for (unsigned i = 0; i < kSwitchedCount; ++i) write_if_different(c, i, g.msrs.state.*(kSwitched[i].field));
  c.owner = &g;
  g.msrs.fresh = false;
}

void release_guest_msrs() {
  CpuMsrs& c = this_cpu_msrs();
  if (!c.owner) return;
  read_back_owner(c);
  for (unsigned i = 0; i < kSwitchedCount; ++i) write_if_different(c, i, c.host[i]);
  c.owner = nullptr;
}

[[gnu::noinline]] ExitAction on_rdmsr(Guest& g, const vmx::ExitInfo& e) {
  uint32_t msr = lo32(g.regs.rcx);
  if (msr == m::kKernelGsBase) {
    CpuMsrs& c = this_cpu_msrs();
    if (c.owner == &g) read_back_owner(c);
  }
  const vcpu::MsrResult r = vcpu::msr_read(features(), g.msrs.state, msr, cpu::rdtsc());
  if (!r.ok) {
    GUEST_LOG(g, "vm %s: RDMSR 0x%x is not on the allowlist: #GP injected", g.name, msr);
    inject_hw_exception(kVectorGp, true);
    return ExitAction::Resume;
  }
  g.regs.rax = lo32(r.value);
  g.regs.rdx = r.value >> 32;
  next_rip(e);
  return ExitAction::Resume;
}

[[gnu::noinline]] ExitAction on_wrmsr(Guest& g, const vmx::ExitInfo& e) {
  uint32_t msr = lo32(g.regs.rcx);
  uint64_t value = (g.regs.rdx << 32) | lo32(g.regs.rax);
  const vcpu::MsrResult r = vcpu::msr_write(features(), g.msrs.state, msr, value);
  if (!r.ok) {
    GUEST_LOG(g, "vm %s: WRMSR 0x%x is not allowed: #GP injected", g.name, msr);
    inject_hw_exception(kVectorGp, true);
    return ExitAction::Resume;
  }
  if (r.ibpb) cpu::wrmsr(m::kPredCmd, 1);  // the barrier the guest asked for, on this CPU
  if (r.switched) {
    // In the CPU now if the guest owns it; else at its next entry.
    CpuMsrs& c = this_cpu_msrs();
    int i = switched_index(msr);
    if (c.owner == &g && i >= 0 && switched_exists(static_cast<unsigned>(i))) {
      cpu::wrmsr(msr, value);  // unconditionally: KERNEL_GS_BASE's cached value may be stale (SWAPGS)
      c.loaded[i] = value;
    }
  }
  next_rip(e);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
