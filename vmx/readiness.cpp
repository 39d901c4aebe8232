#include "vmx/readiness.hpp"

#include "vmx/text.hpp"

namespace mamori::vmx {

void Readiness::add(Severity s, const char* text) {
  if (count < kMax) findings[count++] = {s, text};
}
void Readiness::add(Severity s, const char* text, ControlBit control) {
  if (count < kMax) findings[count++] = {s, text, true, control};
}
bool Readiness::ready() const { return count_of(Severity::required) == 0; }
int Readiness::count_of(Severity s) const {
  int n = 0;
  for (int i = 0; i < count; ++i) n += findings[i].severity == s;
  return n;
}
bool Readiness::mentions(const char* prefix) const {
  for (int i = 0; i < count; ++i)
    if (text::starts_with(findings[i].text, prefix)) return true;
  return false;
}

namespace {
// Required control bits that evaluate_readiness() explains in its own words.
constexpr uint32_t kExplained[kControlKinds] = {
    bit_of(PinCtl::external_interrupt_exiting) | bit_of(PinCtl::nmi_exiting) |
        bit_of(PinCtl::preemption_timer),
    bit_of(ProcCtl::hlt_exiting) | bit_of(ProcCtl::io_bitmaps) | bit_of(ProcCtl::msr_bitmaps) |
        bit_of(ProcCtl::secondary_controls),
    bit_of(Proc2Ctl::enable_ept) | bit_of(Proc2Ctl::unrestricted_guest),
    bit_of(ExitCtl::host_address_space_size) | bit_of(ExitCtl::ack_interrupt_on_exit) |
        bit_of(ExitCtl::save_efer) | bit_of(ExitCtl::load_efer),
    bit_of(EntryCtl::load_efer),
};
}  // namespace

Readiness evaluate_readiness(const VmxCapabilities& c) {
  return evaluate_readiness(c, mamori_control_request());
}

Readiness evaluate_readiness(const VmxCapabilities& c, const ControlRequest& request) {
  Readiness r;
  const auto need = [&](bool ok, const char* text) {
    if (!ok) r.add(Severity::required, text);
  };
  const auto want = [&](bool ok, const char* text) {
    if (!ok) r.add(Severity::warning, text);
  };
  if (!c.cpuid_vmx) {
    r.add(Severity::required, "CPU: no VMX (CPUID.1:ECX[5] = 0): guests cannot run");
    return r;
  }
  // A.1: the VMCS region is at most 4 KiB; mamori maps VMCS and VMXON
  // regions write-back.
  need(c.vmcs_size > 0 && c.vmcs_size <= 4096, "VMCS: region size reported is 0 or over 4 KiB");
  need(c.vmcs_memory_type == MemoryType::wb, "VMCS: memory type is not write-back");
  need(!c.physaddr_32bit, "VMCS: VMXON/VMCS must live below 4 GiB (IA32_VMX_BASIC[48]); not supported");

  need(c.can(PinCtl::external_interrupt_exiting), "controls: external-interrupt exiting not available");
  need(c.can(PinCtl::nmi_exiting), "controls: NMI exiting not available");
  need(c.preemption_timer(), "controls: VMX-preemption timer not available (needed for scheduling)");
  need(c.can(ProcCtl::hlt_exiting), "controls: HLT exiting not available");
  need(c.io_bitmaps(), "controls: I/O bitmaps not available");
  need(c.msr_bitmaps(), "controls: MSR bitmaps not available");
  need(c.secondary_controls(), "controls: secondary processor-based controls not available (no EPT)");
  need(c.can(ExitCtl::host_address_space_size), "controls: 64-bit host (host address-space size) not available");
  need(c.can(ExitCtl::load_efer) && c.can(ExitCtl::save_efer) && c.can(EntryCtl::load_efer),
       "controls: loading/saving IA32_EFER on VM entry/exit not available");
  need(c.can(ExitCtl::ack_interrupt_on_exit), "controls: acknowledge interrupt on exit not available");
  need(c.misc.activity_hlt, "VMX misc: activity state HLT not supported");
  want(c.can(EntryCtl::ia32e_mode_guest), "controls: IA-32e mode guest not available (no 64-bit guests)");

  // EPT (App. A.10).
  if (!c.ept_enabled_possible()) {
    r.add(Severity::required, "EPT: not supported (secondary control 'enable EPT')");
  } else {
    need(c.ept.walk_length_4, "EPT: 4-level page walk not supported");
    need(c.ept.memory_type_wb, "EPT: write-back memory type not supported");
    // Bit 8 of IA32_VMX_EPT_VPID_CAP is about the EPT *paging-structure*
    // memory type (EPTP[2:0], App. A.10); leaf entries may be UC whatever
    // it says (SDM 3C §29.3.7). mamori's EPTP is WB, so UC there is not
    // needed: nested KVM (Linux 6.1 nested_vmx_setup_ctls_msrs) reports WB only.
    if (!c.ept.memory_type_uc)
      r.add(Severity::info, "EPT: paging structures cannot be UC (EPTP uses WB)");
    need(c.ept.invept && (c.ept.invept_single_context || c.ept.invept_all_context),
         "EPT: INVEPT (single- or all-context) not supported");
    if (!c.ept.pages_2m)
      r.add(Severity::warning, "EPT: 2 MiB pages not supported (guests use 4 KiB pages)");
    if (!c.ept.pages_1g)
      r.add(Severity::warning, "EPT: 1 GiB pages not supported (guests use 2 MiB pages)");
    want(c.ept.accessed_dirty, "EPT: accessed/dirty flags not supported");
    if (c.ept.invept && !c.ept.invept_single_context && c.ept.invept_all_context)
      r.add(Severity::info, "EPT: only all-context INVEPT (every guest's TLB flushed on changes)");
  }
  need(c.unrestricted_guest(), "controls: unrestricted guest not supported (guests cannot start in real mode)");

  if (!c.vpid()) {
    r.add(Severity::warning, "VPID: not supported (TLB flushed on every VM entry/exit)");
  } else if (!c.ept.invvpid || !(c.ept.invvpid_single_context || c.ept.invvpid_all_context)) {
    r.add(Severity::warning, "VPID: INVVPID single/all-context not supported; VPID left off");
  }
  // Any other control mamori requires (the sentences above cover the ones
  // that have a reason to give): named by the control itself.
  const ComputedControls ctl = compute_controls(c, request);
  for (int i = 0; i < ctl.missing_count; ++i) {
    const ControlBit b = ctl.missing[i];
    if (!(kExplained[static_cast<int>(b.kind)] >> b.bit & 1))
      r.add(Severity::required, "controls: required control not available", b);
  }
  if (!c.true_controls)
    r.add(Severity::info, "controls: no TRUE capability MSRs (default1 controls stay 1)");
  if (c.preemption_timer() && c.misc.preemption_timer_shift > 10)
    r.add(Severity::info, "VMX misc: coarse preemption timer (more than 1024 TSC ticks per tick)");
  return r;
}

FeatureControlVerdict evaluate_feature_control(bool cpuid_vmx, uint64_t fc) {
  using A = FeatureControlVerdict::Action;
  if (!cpuid_vmx)
    return {A::no_vmx, 0, "VMX: not offered by this CPU (CPUID.1:ECX[5] = 0); no guests"};
  const bool locked = fc & feature_control::lock;
  const bool outside = fc & feature_control::vmx_outside_smx;
  if (locked && outside)
    return {A::ready, 0, "IA32_FEATURE_CONTROL: locked, VMX outside SMX enabled"};
  if (!locked)
    return {A::lock_and_enable, fc | feature_control::lock | feature_control::vmx_outside_smx,
            "IA32_FEATURE_CONTROL: unlocked; enabling VMX outside SMX and locking it"};
  return {A::locked_off, 0,
          "IA32_FEATURE_CONTROL: locked with VMX disabled by the firmware; enable VT-x in "
          "the firmware setup (a reset is needed)"};
}

}  // namespace mamori::vmx
