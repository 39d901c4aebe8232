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

// What the host CPU offers (SDM Vol. 2A CPUID leaf 07H EDX, 80000001H
// EDX, 80000008H EAX), read once.
const vcpu::MsrFeatures& features() {
  static vcpu::MsrFeatures f;
  static bool done;
  if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {  // any CPU may be first: the same values
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
    __atomic_store_n(&done, true, __ATOMIC_RELEASE);
  }
  return f;
}

class ThisCpu final : public vcpu::MsrCpu {
 public:
  uint64_t rdmsr(uint32_t msr) override { return cpu::rdmsr(msr); }
  void wrmsr(uint32_t msr, uint64_t v) override { cpu::wrmsr(msr, v); }
};

vcpu::CpuMsrSwitch g_switch[kMaxCpus];
vcpu::CpuMsrSwitch& this_cpu_switch() { return g_switch[this_cpu_index() % kMaxCpus]; }
}  // namespace

void load_guest_msrs(Guest& g) {
  ThisCpu c;
  this_cpu_switch().load(c, features(), g.msrs);
}

void release_guest_msrs() {
  ThisCpu c;
  this_cpu_switch().release(c, features());
}

[[gnu::noinline]] ExitAction on_rdmsr(Guest& g, const vmx::ExitInfo& e) {
  uint32_t msr = lo32(g.regs.rcx);
  ThisCpu c;
  this_cpu_switch().before_read(c, g.msrs, msr);
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
    ThisCpu c;
    this_cpu_switch().after_write(c, features(), g.msrs, msr);  // in the CPU now if it owns it
  }
  next_rip(e);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
