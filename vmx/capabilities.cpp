#include "vmx/capabilities.hpp"

#include "vmx/exit_qualification.hpp"  // bits(), bit()
#include "vmx/msr.hpp"

namespace mamori::vmx {

bool RawVmxMsrs::set(uint32_t index, uint64_t v) {
  switch (index) {
    case msr::ia32_feature_control: feature_control = v; return true;
    case msr::ia32_vmx_basic: basic = v; return true;
    case msr::ia32_vmx_pinbased_ctls: pinbased = v; return true;
    case msr::ia32_vmx_procbased_ctls: procbased = v; return true;
    case msr::ia32_vmx_exit_ctls: exit = v; return true;
    case msr::ia32_vmx_entry_ctls: entry = v; return true;
    case msr::ia32_vmx_misc: misc = v; return true;
    case msr::ia32_vmx_cr0_fixed0: cr0_fixed0 = v; return true;
    case msr::ia32_vmx_cr0_fixed1: cr0_fixed1 = v; return true;
    case msr::ia32_vmx_cr4_fixed0: cr4_fixed0 = v; return true;
    case msr::ia32_vmx_cr4_fixed1: cr4_fixed1 = v; return true;
    case msr::ia32_vmx_vmcs_enum: vmcs_enum = v; return true;
    case msr::ia32_vmx_procbased_ctls2: procbased2 = v; return true;
    case msr::ia32_vmx_ept_vpid_cap: ept_vpid_cap = v; return true;
    case msr::ia32_vmx_true_pinbased_ctls: true_pinbased = v; return true;
    case msr::ia32_vmx_true_procbased_ctls: true_procbased = v; return true;
    case msr::ia32_vmx_true_exit_ctls: true_exit = v; return true;
    case msr::ia32_vmx_true_entry_ctls: true_entry = v; return true;
    case msr::ia32_vmx_vmfunc: vmfunc = v; return true;
    default: return false;
  }
}

bool msr_present(const RawVmxMsrs& r, uint32_t index) {
  if (index == msr::ia32_feature_control) return true;  // exists wherever VMX does
  if (!r.cpuid_vmx) return false;
  const bool secondary = bit(r.procbased, 63);            // allowed-1 of bit 31
  const bool true_msrs = bit(r.basic, 55);
  switch (index) {
    case msr::ia32_vmx_procbased_ctls2:
      return secondary;
    case msr::ia32_vmx_ept_vpid_cap:
      return secondary && (bit(r.procbased2, 32 + 1) || bit(r.procbased2, 32 + 5));
    case msr::ia32_vmx_true_pinbased_ctls:
    case msr::ia32_vmx_true_procbased_ctls:
    case msr::ia32_vmx_true_exit_ctls:
    case msr::ia32_vmx_true_entry_ctls:
      return true_msrs;
    case msr::ia32_vmx_vmfunc:
      return secondary && bit(r.procbased2, 32 + 13);
    default:
      return index >= msr::ia32_vmx_basic && index <= msr::ia32_vmx_vmcs_enum;
  }
}

VmxCapabilities decode(const RawVmxMsrs& r) {
  VmxCapabilities c;
  c.cpuid_vmx = r.cpuid_vmx;
  if (!r.cpuid_vmx) return c;

  // A.1 Basic VMX information.
  c.revision_id = static_cast<uint32_t>(bits(r.basic, 30, 0));
  c.vmcs_size = static_cast<uint32_t>(bits(r.basic, 44, 32));
  c.physaddr_32bit = bit(r.basic, 48);
  c.dual_monitor = bit(r.basic, 49);
  c.vmcs_memory_type = static_cast<MemoryType>(bits(r.basic, 53, 50));
  c.ins_outs_info = bit(r.basic, 54);
  c.true_controls = bit(r.basic, 55);
  c.entry_exception_no_error_code = bit(r.basic, 56);

  // A.3-A.5 control words.
  const uint64_t legacy[kControlKinds] = {r.pinbased, r.procbased, r.procbased2, r.exit,
                                          r.entry};
  const uint64_t truev[kControlKinds] = {r.true_pinbased, r.true_procbased, r.procbased2,
                                         r.true_exit, r.true_entry};
  const bool secondary = bit(r.procbased, 63);
  for (int k = 0; k < kControlKinds; ++k) {
    const bool is_proc2 = k == static_cast<int>(ControlKind::proc2);
    // A.3.3: without "activate secondary controls" allowed-1 the secondary
    // MSR does not exist and every secondary control is treated as 0.
    const uint64_t l = (is_proc2 && !secondary) ? 0 : legacy[k];
    const uint64_t t = (is_proc2 && !secondary) ? 0 : truev[k];
    c.legacy_controls[k] = ControlCapability::from_msr(l);
    c.controls[k] = ControlCapability::from_msr(c.true_controls ? t : l);
  }

  // A.6 Miscellaneous data.
  c.misc.preemption_timer_shift = static_cast<unsigned>(bits(r.misc, 4, 0));
  c.misc.store_efer_lma = bit(r.misc, 5);
  c.misc.activity_hlt = bit(r.misc, 6);
  c.misc.activity_shutdown = bit(r.misc, 7);
  c.misc.activity_wait_for_sipi = bit(r.misc, 8);
  c.misc.pt_in_vmx = bit(r.misc, 14);
  c.misc.rdmsr_smbase_in_smm = bit(r.misc, 15);
  c.misc.cr3_target_count = static_cast<unsigned>(bits(r.misc, 24, 16));
  c.misc.max_msr_list = 512u * (static_cast<unsigned>(bits(r.misc, 27, 25)) + 1);
  c.misc.vmxoff_blocks_smi = bit(r.misc, 28);
  c.misc.vmwrite_any_field = bit(r.misc, 29);
  c.misc.inject_zero_length = bit(r.misc, 30);
  c.misc.mseg_revision = static_cast<uint32_t>(bits(r.misc, 63, 32));

  // A.7, A.8 fixed CR bits; A.9 VMCS enumeration.
  c.cr0_fixed0 = r.cr0_fixed0;
  c.cr0_fixed1 = r.cr0_fixed1;
  c.cr4_fixed0 = r.cr4_fixed0;
  c.cr4_fixed1 = r.cr4_fixed1;
  c.vmcs_highest_index = static_cast<unsigned>(bits(r.vmcs_enum, 9, 1));

  // A.10 EPT and VPID (only meaningful if the MSR exists).
  if (msr_present(r, msr::ia32_vmx_ept_vpid_cap)) {
    const uint64_t e = r.ept_vpid_cap;
    auto& x = c.ept;
    x.execute_only = bit(e, 0);
    x.walk_length_4 = bit(e, 6);
    x.walk_length_5 = bit(e, 7);
    x.memory_type_uc = bit(e, 8);
    x.memory_type_wb = bit(e, 14);
    x.pages_2m = bit(e, 16);
    x.pages_1g = bit(e, 17);
    x.invept = bit(e, 20);
    x.accessed_dirty = bit(e, 21);
    x.advanced_exit_info = bit(e, 22);
    x.supervisor_shadow_stack = bit(e, 23);
    x.invept_single_context = bit(e, 25);
    x.invept_all_context = bit(e, 26);
    x.invvpid = bit(e, 32);
    x.invvpid_individual_address = bit(e, 40);
    x.invvpid_single_context = bit(e, 41);
    x.invvpid_all_context = bit(e, 42);
    x.invvpid_single_context_retaining_globals = bit(e, 43);
  }
  // A.11 VM functions.
  if (msr_present(r, msr::ia32_vmx_vmfunc)) c.vmfunc = r.vmfunc;
  return c;
}

}  // namespace mamori::vmx
