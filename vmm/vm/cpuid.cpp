// CPUID exits: the guest's answer is vmm/vcpu/cpuid_policy's, over this
// CPU's CPUID (docs/guest-abi.md, "CPUID").
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/vcpu/cpuid_policy.hpp"
#include "vmm/vm/exit_handlers.hpp"

namespace mamori::vm {
namespace {
static_assert(vcpu::kHvAbiVersion == kAbiVersion);

// The virtual local APIC's timer clock (devices/lapic Config::timer_hz),
// stated as the core crystal in CPUID 15H and the bus in 16H/40000010H.
constexpr uint64_t kApicTimerHz = 25'000'000;

class HostCpuid final : public vcpu::CpuidSource {
 public:
  vcpu::CpuidRegs query(uint32_t leaf, uint32_t sub) const override {
    const cpu::CpuidResult r = cpu::cpuid(leaf, sub);
    return {r.eax, r.ebx, r.ecx, r.edx};
  }
};
}  // namespace

[[gnu::noinline]] ExitAction on_cpuid(Guest& g, const vmx::ExitInfo& e) {
  const uint32_t leaf = lo32(g.regs.rax), sub = lo32(g.regs.rcx);
  const vmx::VmxCapabilities& caps = *cpu_vmx::capabilities();
  vcpu::CpuidConfig cfg;
  cfg.tsc_hz = drivers::tsc::hz();  // the guest's TSC is the host's (no TSC scaling)
  cfg.apic_timer_hz = kApicTimerHz;
  cfg.vcpu_count = 1;               // one vCPU per guest today
  cfg.apic_id = 0;
  cfg.guest_id = g.id;
  cfg.xsave_mask = arch::fpu::mask();
  cfg.xsave_bytes_all = arch::fpu::has_xsave() ? arch::fpu::area_bytes() : 0;
  // The secondary controls the VMCS sets when the CPU allows them (vmx/control_compute.cpp).
  cfg.rdtscp = caps.can(vmx::Proc2Ctl::enable_rdtscp);
  cfg.invpcid = caps.can(vmx::Proc2Ctl::enable_invpcid);
  vcpu::CpuidGuestState st;
  st.cr4 = guest_visible_cr4();
  st.xsave_bytes_current = arch::fpu::area_bytes_for(g.xcr0);
  const vcpu::CpuidRegs r = vcpu::guest_cpuid(HostCpuid{}, cfg, st, leaf, sub);
  g.regs.rax = r.eax;
  g.regs.rbx = r.ebx;
  g.regs.rcx = r.ecx;
  g.regs.rdx = r.edx;
  next_rip(e);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
