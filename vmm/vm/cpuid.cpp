// CPUID exits: the guest's answer is vmm/vcpu/cpuid_policy's, over this
// CPU's CPUID (docs/guest-abi.md, "CPUID").
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/vcpu/cpuid_policy.hpp"
#include "vmm/vm/exit_handlers.hpp"
#include "vmm/vm/virtual_platform.hpp"

namespace mamori::vm {
namespace {
static_assert(vcpu::kHvAbiVersion == kAbiVersion);

class HostCpuid final : public vcpu::CpuidSource {
 public:
  vcpu::CpuidRegs query(uint32_t leaf, uint32_t sub) const override {
    const cpu::CpuidResult r = cpu::cpuid(leaf, sub);
    return {r.eax, r.ebx, r.ecx, r.edx};
  }
};

// What is the same for every guest and every CPUID (read once): the
// CPUID exit is on the fast path (docs/benchmarks.md).
const vcpu::CpuidConfig& vmm_config() {
  static vcpu::CpuidConfig cfg;
  static bool done;
  if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {  // any CPU may be first: the same values
    const vmx::VmxCapabilities& caps = *cpu_vmx::capabilities();
    // The rates the virtual platform runs the guest's TSC and APIC timer
    // at (vm/virtual_platform.hpp): CPUID 15H, 16H and 40000010H state them.
    cfg.tsc_hz = guest_tsc_hz();
    cfg.apic_timer_hz = guest_apic_timer_hz();
    cfg.xsave_mask = arch::fpu::mask();
    cfg.xsave_bytes_all = arch::fpu::has_xsave() ? arch::fpu::area_bytes() : 0;
    // The secondary controls the VMCS sets when the CPU allows them (vmx/control_compute.cpp).
    cfg.rdtscp = caps.can(vmx::Proc2Ctl::enable_rdtscp);
    cfg.invpcid = caps.can(vmx::Proc2Ctl::enable_invpcid);
    __atomic_store_n(&done, true, __ATOMIC_RELEASE);
  }
  return cfg;
}

// Per guest (its id), made on its first CPUID on its own CPU: no copy per
// exit.
const vcpu::CpuidConfig& guest_config(const Guest& g) {
  static vcpu::CpuidConfig cfg[kMaxGuests];
  static bool ready[kMaxGuests];
  const unsigned i = g.id % kMaxGuests;
  if (!ready[i]) {
    cfg[i] = vmm_config();
    Guest& vm = vm_of(const_cast<Guest&>(g));
    cfg[i].guest_id = vm.id;
    cfg[i].vcpu_count = vm.vcpu_count;  // one core each, one package (vcpu/cpuid_policy.cpp topology leaves)
    cfg[i].apic_id = guest_apic_id(g);
    ready[i] = true;
  }
  return cfg[i];
}
}  // namespace

[[gnu::noinline]] ExitAction on_cpuid(Guest& g, const vmx::ExitInfo& e) {
  const uint32_t leaf = lo32(g.regs.rax), sub = lo32(g.regs.rcx);
  // The guest's own state only for the leaves that read it (1: OSXSAVE,
  // 7: OSPKE, 0DH: the area for its XCR0).
  vcpu::CpuidGuestState st;
  if (leaf == 1 || leaf == 7 || leaf == 0xD) st.cr4 = guest_visible_cr4();
  if (leaf == 0xD) {
    st.xsave_bytes_current = arch::fpu::area_bytes_for(g.xcr0);
    st.xcr0 = g.xcr0;
  }
  const vcpu::CpuidRegs r = vcpu::guest_cpuid(HostCpuid{}, guest_config(g), st, leaf, sub);
  g.regs.rax = r.eax;
  g.regs.rbx = r.ebx;
  g.regs.rcx = r.ecx;
  g.regs.rdx = r.edx;
  next_rip(e);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
