#include "vmx/field_support.hpp"

namespace mamori::vmx {

bool field_supported(VmcsField f, const VmxCapabilities& c) {
  using F = VmcsField;
  if (!c.cpuid_vmx) return false;
  // Not filtered by IA32_VMX_VMCS_ENUM (App. A.9): real CPUs under-report
  // it — an Ivy Bridge (0x306A9) reports highest index 21 yet has the
  // VMX-preemption timer value field (index 23) and VirtualBox uses it.
  switch (f) {
    case F::vpid: return c.can(Proc2Ctl::enable_vpid);
    case F::posted_int_notify_vector:
    case F::posted_int_desc_addr: return c.can(PinCtl::posted_interrupts);
    case F::eptp_index:
    case F::ve_info_addr: return c.can(Proc2Ctl::ept_violation_ve);
    case F::guest_interrupt_status:
    case F::eoi_exit_bitmap0:
    case F::eoi_exit_bitmap1:
    case F::eoi_exit_bitmap2:
    case F::eoi_exit_bitmap3: return c.can(Proc2Ctl::virtual_interrupt_delivery);
    case F::guest_pml_index:
    case F::pml_address: return c.can(Proc2Ctl::enable_pml);
    case F::io_bitmap_a:
    case F::io_bitmap_b: return c.can(ProcCtl::io_bitmaps);
    case F::msr_bitmap: return c.can(ProcCtl::msr_bitmaps);
    case F::executive_vmcs_ptr: return c.dual_monitor;
    case F::virtual_apic_addr:
    case F::tpr_threshold: return c.can(ProcCtl::tpr_shadow);
    case F::apic_access_addr: return c.can(Proc2Ctl::virtualize_apic_accesses);
    case F::vm_function_controls: return c.can(Proc2Ctl::enable_vmfunc);
    case F::eptp_list_addr: return c.can(Proc2Ctl::enable_vmfunc) && (c.vmfunc & 1);
    case F::ept_pointer:
    case F::guest_physical_address:
    case F::guest_pdpte0:
    case F::guest_pdpte1:
    case F::guest_pdpte2:
    case F::guest_pdpte3: return c.can(Proc2Ctl::enable_ept);
    case F::vmread_bitmap:
    case F::vmwrite_bitmap: return c.can(Proc2Ctl::vmcs_shadowing);
    case F::xss_exiting_bitmap: return c.can(Proc2Ctl::enable_xsaves);
    case F::encls_exiting_bitmap: return c.can(Proc2Ctl::encls_exiting);
    case F::sppt_pointer: return c.can(Proc2Ctl::ept_subpage_write);
    case F::tsc_multiplier: return c.can(Proc2Ctl::tsc_scaling);
    case F::tertiary_proc_controls: return c.can(ProcCtl::tertiary_controls);
    case F::secondary_proc_controls: return c.secondary_controls();
    case F::ple_gap:
    case F::ple_window: return c.can(Proc2Ctl::pause_loop_exiting);
    case F::guest_ia32_pat: return c.can(EntryCtl::load_pat) || c.can(ExitCtl::save_pat);
    case F::host_ia32_pat: return c.can(ExitCtl::load_pat);
    case F::guest_ia32_efer: return c.can(EntryCtl::load_efer) || c.can(ExitCtl::save_efer);
    case F::host_ia32_efer: return c.can(ExitCtl::load_efer);
    case F::guest_ia32_perf_global_ctrl: return c.can(EntryCtl::load_perf_global_ctrl);
    case F::host_ia32_perf_global_ctrl: return c.can(ExitCtl::load_perf_global_ctrl);
    case F::guest_ia32_bndcfgs: return c.can(EntryCtl::load_bndcfgs) || c.can(ExitCtl::clear_bndcfgs);
    case F::guest_ia32_rtit_ctl: return c.can(EntryCtl::load_rtit_ctl) || c.can(ExitCtl::clear_rtit_ctl);
    case F::guest_ia32_pkrs: return c.can(EntryCtl::load_pkrs);
    case F::host_ia32_pkrs: return c.can(ExitCtl::load_pkrs);
    case F::guest_ia32_s_cet:
    case F::guest_ssp:
    case F::guest_ia32_interrupt_ssp_table_addr: return c.can(EntryCtl::load_cet_state);
    case F::host_ia32_s_cet:
    case F::host_ssp:
    case F::host_ia32_interrupt_ssp_table_addr: return c.can(ExitCtl::load_cet_state);
    case F::guest_preemption_timer: return c.can(PinCtl::preemption_timer);
    default: return true;  // present on every VMX processor
  }
}

}  // namespace mamori::vmx
