// Report bookkeeping, the driver, and the checks on VMX controls
// (SDM Vol. 3C §27.2.1).
#include "vmx/entry_check.hpp"

#include "vmx/entry_check_util.hpp"
#include "vmx/text.hpp"

namespace mamori::vmx {

const char* rule_group_name(RuleGroup g) {
  switch (g) {
    case RuleGroup::exec_controls: return "VM-execution control fields (27.2.1.1)";
    case RuleGroup::exit_controls: return "VM-exit control fields (27.2.1.2)";
    case RuleGroup::entry_controls: return "VM-entry control fields (27.2.1.3)";
    case RuleGroup::host_control_regs_msrs: return "host control registers and MSRs (27.2.2)";
    case RuleGroup::host_segments: return "host segment and descriptor-table registers (27.2.3)";
    case RuleGroup::host_address_space: return "address-space size (27.2.4)";
    case RuleGroup::guest_control_regs_msrs: return "guest control registers, debug registers, MSRs (27.3.1.1)";
    case RuleGroup::guest_segments: return "guest segment registers (27.3.1.2)";
    case RuleGroup::guest_descriptor_tables: return "guest descriptor-table registers (27.3.1.3)";
    case RuleGroup::guest_rip_rflags: return "guest RIP and RFLAGS (27.3.1.4)";
    case RuleGroup::guest_non_register: return "guest non-register state (27.3.1.5)";
    case RuleGroup::guest_pdptes: return "guest PDPTEs (27.3.1.6)";
  }
  return "?";
}

void EntryCheckReport::add(RuleGroup g, const char* section, const char* rule, VmcsField f,
                           uint64_t v) {
  if (count < kMax)
    violations[count++] = {g, section, rule, f, v};
  else
    ++dropped;
}
bool EntryCheckReport::has(RuleGroup g) const {
  for (int i = 0; i < count; ++i)
    if (violations[i].group == g) return true;
  return false;
}
bool EntryCheckReport::mentions(const char* needle) const {
  for (int i = 0; i < count; ++i)
    if (text::contains(violations[i].rule, needle)) return true;
  return false;
}

void check_vm_entry(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out) {
  // The processor checks controls, then host state, then guest state
  // (§27.1-27.3); we report all of them.
  check_controls(vmcs, ctx, out);
  check_host_state(vmcs, ctx, out);
  check_guest_state(vmcs, ctx, out);
}

namespace {
using namespace detail;
constexpr const char* k2711 = "27.2.1.1";
constexpr const char* k2712 = "27.2.1.2";
constexpr const char* k2713 = "27.2.1.3";

void reserved_bits(Facts& f, ControlKind k, uint32_t value, VmcsField field, RuleGroup g,
                   const char* section, const char* rule_must1, const char* rule_must0) {
  const ControlCapability& cap = f.caps.control(k);
  if ((value & cap.must_be_one) != cap.must_be_one) f.out.add(g, section, rule_must1, field, value);
  if (value & ~cap.may_be_one) f.out.add(g, section, rule_must0, field, value);
}

// MSR-load/store areas: 16-byte aligned, the whole area within MAXPHYADDR.
void msr_area(Facts& f, RuleGroup g, const char* section, VmcsField count_field,
              VmcsField addr_field, const char* rule) {
  const uint64_t n = f.get(count_field);
  if (n == 0) return;
  const uint64_t a = f.get(addr_field);
  const uint64_t last = a + n * 16 - 1;
  if ((a & 0xF) || !within_phys(a, f.ctx.maxphyaddr) || !within_phys(last, f.ctx.maxphyaddr))
    f.fail(g, section, rule, addr_field);
}

void exec_controls(Facts& f) {
  const auto G = RuleGroup::exec_controls;
  reserved_bits(f, ControlKind::pin, f.pin, VmcsField::pin_based_controls, G, k2711,
                "pin-based controls: a bit the capability MSR reports as must-be-1 is 0",
                "pin-based controls: a bit the capability MSR reports as must-be-0 is 1");
  reserved_bits(f, ControlKind::proc, f.proc, VmcsField::proc_based_controls, G, k2711,
                "primary processor-based controls: a must-be-1 bit is 0",
                "primary processor-based controls: a must-be-0 bit is 1");
  if (f.proc & bit_of(ProcCtl::secondary_controls))
    reserved_bits(f, ControlKind::proc2, f.proc2, VmcsField::secondary_proc_controls, G, k2711,
                  "secondary processor-based controls: a must-be-1 bit is 0",
                  "secondary processor-based controls: a bit not supported by this CPU is 1");

  if (f.get(VmcsField::cr3_target_count) > f.caps.misc.cr3_target_count)
    f.fail(G, k2711, "CR3-target count exceeds IA32_VMX_MISC[24:16]", VmcsField::cr3_target_count);

  const unsigned mp = f.ctx.maxphyaddr;
  if (f.proc & bit_of(ProcCtl::io_bitmaps)) {
    if (!page_aligned_phys(f.get(VmcsField::io_bitmap_a), mp))
      f.fail(G, k2711, "I/O bitmap A address must be 4-KiB aligned and within MAXPHYADDR",
             VmcsField::io_bitmap_a);
    if (!page_aligned_phys(f.get(VmcsField::io_bitmap_b), mp))
      f.fail(G, k2711, "I/O bitmap B address must be 4-KiB aligned and within MAXPHYADDR",
             VmcsField::io_bitmap_b);
  }
  if (f.proc & bit_of(ProcCtl::msr_bitmaps))
    if (!page_aligned_phys(f.get(VmcsField::msr_bitmap), mp))
      f.fail(G, k2711, "MSR bitmap address must be 4-KiB aligned and within MAXPHYADDR",
             VmcsField::msr_bitmap);

  const bool tpr_shadow = f.proc & bit_of(ProcCtl::tpr_shadow);
  if (tpr_shadow) {
    if (!page_aligned_phys(f.get(VmcsField::virtual_apic_addr), mp))
      f.fail(G, k2711, "virtual-APIC address must be 4-KiB aligned and within MAXPHYADDR",
             VmcsField::virtual_apic_addr);
    if (!(f.proc2 & bit_of(Proc2Ctl::virtual_interrupt_delivery)) &&
        (f.get(VmcsField::tpr_threshold) & ~0xFull))
      f.fail(G, k2711, "TPR threshold bits 31:4 must be 0", VmcsField::tpr_threshold);
  } else {
    if (f.proc2 & (bit_of(Proc2Ctl::virtualize_x2apic) | bit_of(Proc2Ctl::apic_register_virtualization) |
                   bit_of(Proc2Ctl::virtual_interrupt_delivery)))
      f.fail(G, k2711,
             "without 'use TPR shadow', virtualize x2APIC, APIC-register virtualization and "
             "virtual-interrupt delivery must be 0",
             VmcsField::secondary_proc_controls);
  }
  if (!(f.pin & bit_of(PinCtl::nmi_exiting)) && (f.pin & bit_of(PinCtl::virtual_nmis)))
    f.fail(G, k2711, "'virtual NMIs' requires 'NMI exiting'", VmcsField::pin_based_controls);
  if (!(f.pin & bit_of(PinCtl::virtual_nmis)) && (f.proc & bit_of(ProcCtl::nmi_window_exiting)))
    f.fail(G, k2711, "'NMI-window exiting' requires 'virtual NMIs'", VmcsField::proc_based_controls);
  if ((f.proc2 & bit_of(Proc2Ctl::virtualize_apic_accesses)) &&
      !page_aligned_phys(f.get(VmcsField::apic_access_addr), mp))
    f.fail(G, k2711, "APIC-access address must be 4-KiB aligned and within MAXPHYADDR",
           VmcsField::apic_access_addr);
  if ((f.proc2 & bit_of(Proc2Ctl::virtualize_x2apic)) &&
      (f.proc2 & bit_of(Proc2Ctl::virtualize_apic_accesses)))
    f.fail(G, k2711, "'virtualize x2APIC mode' and 'virtualize APIC accesses' cannot both be 1",
           VmcsField::secondary_proc_controls);
  if ((f.proc2 & bit_of(Proc2Ctl::virtual_interrupt_delivery)) &&
      !(f.pin & bit_of(PinCtl::external_interrupt_exiting)))
    f.fail(G, k2711, "'virtual-interrupt delivery' requires 'external-interrupt exiting'",
           VmcsField::pin_based_controls);
  if (f.pin & bit_of(PinCtl::posted_interrupts)) {
    if (!(f.proc2 & bit_of(Proc2Ctl::virtual_interrupt_delivery)) ||
        !(f.exit & bit_of(ExitCtl::ack_interrupt_on_exit)))
      f.fail(G, k2711,
             "'process posted interrupts' requires virtual-interrupt delivery and "
             "'acknowledge interrupt on exit'",
             VmcsField::pin_based_controls);
    if (f.get(VmcsField::posted_int_notify_vector) & 0xFF00)
      f.fail(G, k2711, "posted-interrupt notification vector bits 15:8 must be 0",
             VmcsField::posted_int_notify_vector);
    const uint64_t d = f.get(VmcsField::posted_int_desc_addr);
    if ((d & 0x3F) || !within_phys(d, mp))
      f.fail(G, k2711, "posted-interrupt descriptor address must be 64-byte aligned and within MAXPHYADDR",
             VmcsField::posted_int_desc_addr);
  }
  if ((f.proc2 & bit_of(Proc2Ctl::enable_vpid)) && f.get(VmcsField::vpid) == 0)
    f.fail(G, k2711, "'enable VPID' requires a non-zero VPID", VmcsField::vpid);

  if (f.ept) {
    const uint64_t eptp = f.get(VmcsField::ept_pointer);
    const unsigned mt = eptp & 7;
    if (!((mt == 0 && f.caps.ept.memory_type_uc) || (mt == 6 && f.caps.ept.memory_type_wb)))
      f.fail(G, k2711, "EPTP memory type (bits 2:0) must be a supported UC (0) or WB (6)",
             VmcsField::ept_pointer);
    const unsigned walk = (eptp >> 3) & 7;
    if (!((walk == 3 && f.caps.ept.walk_length_4) || (walk == 4 && f.caps.ept.walk_length_5)))
      f.fail(G, k2711, "EPTP page-walk length (bits 5:3) must be 3 (4-level) or a supported 4",
             VmcsField::ept_pointer);
    if (((eptp >> 6) & 1) && !f.caps.ept.accessed_dirty)
      f.fail(G, k2711, "EPTP bit 6 (accessed/dirty flags) set but not supported",
             VmcsField::ept_pointer);
    if ((eptp & 0xF80) || !within_phys(eptp, mp))
      f.fail(G, k2711, "EPTP reserved bits 11:7 and bits beyond MAXPHYADDR must be 0",
             VmcsField::ept_pointer);
  }
  if ((f.proc2 & bit_of(Proc2Ctl::enable_pml))) {
    if (!f.ept) f.fail(G, k2711, "'enable PML' requires 'enable EPT'", VmcsField::secondary_proc_controls);
    if (!page_aligned_phys(f.get(VmcsField::pml_address), mp))
      f.fail(G, k2711, "PML address must be 4-KiB aligned and within MAXPHYADDR", VmcsField::pml_address);
  }
  if (f.ug && !f.ept)
    f.fail(G, k2711, "'unrestricted guest' requires 'enable EPT'", VmcsField::secondary_proc_controls);
  if ((f.proc2 & (bit_of(Proc2Ctl::mode_based_ept_execute) | bit_of(Proc2Ctl::ept_subpage_write))) &&
      !f.ept)
    f.fail(G, k2711, "mode-based execute control and sub-page write permissions require 'enable EPT'",
           VmcsField::secondary_proc_controls);
  if (f.proc2 & bit_of(Proc2Ctl::enable_vmfunc)) {
    const uint64_t fn = f.get(VmcsField::vm_function_controls);
    if (fn & ~f.caps.vmfunc)
      f.fail(G, k2711, "VM-function controls: a function not in IA32_VMX_VMFUNC is enabled",
             VmcsField::vm_function_controls);
    if (fn & 1) {
      if (!f.ept)
        f.fail(G, k2711, "EPTP switching requires 'enable EPT'", VmcsField::vm_function_controls);
      if (!page_aligned_phys(f.get(VmcsField::eptp_list_addr), mp))
        f.fail(G, k2711, "EPTP-list address must be 4-KiB aligned and within MAXPHYADDR",
               VmcsField::eptp_list_addr);
    }
  }
  if (f.proc2 & bit_of(Proc2Ctl::vmcs_shadowing)) {
    if (!page_aligned_phys(f.get(VmcsField::vmread_bitmap), mp))
      f.fail(G, k2711, "VMREAD-bitmap address must be 4-KiB aligned and within MAXPHYADDR",
             VmcsField::vmread_bitmap);
    if (!page_aligned_phys(f.get(VmcsField::vmwrite_bitmap), mp))
      f.fail(G, k2711, "VMWRITE-bitmap address must be 4-KiB aligned and within MAXPHYADDR",
             VmcsField::vmwrite_bitmap);
  }
  if ((f.proc2 & bit_of(Proc2Ctl::ept_violation_ve)) &&
      !page_aligned_phys(f.get(VmcsField::ve_info_addr), mp))
    f.fail(G, k2711, "virtualization-exception information address must be 4-KiB aligned",
           VmcsField::ve_info_addr);
}

void exit_controls(Facts& f) {
  const auto G = RuleGroup::exit_controls;
  reserved_bits(f, ControlKind::exit, f.exit, VmcsField::exit_controls, G, k2712,
                "VM-exit controls: a must-be-1 bit is 0", "VM-exit controls: a must-be-0 bit is 1");
  if (!(f.pin & bit_of(PinCtl::preemption_timer)) && (f.exit & bit_of(ExitCtl::save_preemption_timer)))
    f.fail(G, k2712, "'save VMX-preemption timer value' requires 'activate VMX-preemption timer'",
           VmcsField::exit_controls);
  msr_area(f, G, k2712, VmcsField::exit_msr_store_count, VmcsField::exit_msr_store_addr,
           "VM-exit MSR-store address must be 16-byte aligned and the area within MAXPHYADDR");
  msr_area(f, G, k2712, VmcsField::exit_msr_load_count, VmcsField::exit_msr_load_addr,
           "VM-exit MSR-load address must be 16-byte aligned and the area within MAXPHYADDR");
}

void entry_controls(Facts& f) {
  const auto G = RuleGroup::entry_controls;
  reserved_bits(f, ControlKind::entry, f.entry, VmcsField::entry_controls, G, k2713,
                "VM-entry controls: a must-be-1 bit is 0", "VM-entry controls: a must-be-0 bit is 1");
  const InterruptionInfo ev = f.event;
  if (ev.valid()) {
    using T = InterruptionInfo::Type;
    const T t = ev.type();
    const VmcsField fi = VmcsField::entry_interruption_info;
    if (t == T::reserved)
      f.fail(G, k2713, "entry interruption type 1 is reserved", fi);
    if (t == T::other_event && !f.caps.can(ProcCtl::monitor_trap_flag))
      f.fail(G, k2713, "entry interruption type 7 (other event) needs monitor trap flag support", fi);
    if (t == T::nmi && ev.vector() != 2)
      f.fail(G, k2713, "entry interruption type NMI requires vector 2", fi);
    if (t == T::hardware_exception && ev.vector() > 31)
      f.fail(G, k2713, "entry interruption type hardware exception requires vector 0-31", fi);
    if (t == T::other_event && ev.vector() != 0)
      f.fail(G, k2713, "entry interruption type other event requires vector 0 (pending MTF)", fi);
    const uint8_t vec = ev.vector();
    // #DF, #TS, #NP, #SS, #GP, #PF, #AC. (#CP, 21, is not listed: CPUs with
    // CET report IA32_VMX_BASIC[56] and may inject it either way.)
    const bool errcode_vector = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
    const bool pm = !f.ug || (f.guest_cr0 & kCr0Pe);
    const bool expected = pm && t == T::hardware_exception && errcode_vector;
    if (ev.deliver_error_code() != expected) {
      // IA32_VMX_BASIC[56]: hardware exceptions may be delivered with or
      // without an error code (still none in real mode).
      const bool relaxed = f.caps.entry_exception_no_error_code && t == T::hardware_exception && pm;
      if (!relaxed)
        f.fail(G, k2713,
               expected ? "entry interruption: this exception must deliver an error code (bit 11 = 1)"
                        : "entry interruption: deliver-error-code (bit 11) must be 0 for this event "
                          "(no error code in real mode or for this vector/type)",
               fi);
    }
    if (ev.reserved_bits())
      f.fail(G, k2713, "entry interruption information bits 30:12 must be 0", fi);
    if (ev.deliver_error_code() && (f.get(VmcsField::entry_exception_error_code) & 0xFFFF0000u))
      f.fail(G, k2713, "entry exception error code bits 31:16 must be 0",
             VmcsField::entry_exception_error_code);
    if (t == T::software_interrupt || t == T::privileged_software_exception ||
        t == T::software_exception) {
      const uint64_t len = f.get(VmcsField::entry_instruction_length);
      if (len > 15 || (len == 0 && !f.caps.misc.inject_zero_length))
        f.fail(G, k2713, "entry instruction length must be 1-15 for software interrupts/exceptions",
               VmcsField::entry_instruction_length);
    }
  }
  msr_area(f, G, k2713, VmcsField::entry_msr_load_count, VmcsField::entry_msr_load_addr,
           "VM-entry MSR-load address must be 16-byte aligned and the area within MAXPHYADDR");
  if (!f.ctx.in_smm &&
      (f.entry & (bit_of(EntryCtl::entry_to_smm) | bit_of(EntryCtl::deactivate_dual_monitor))))
    f.fail(G, k2713, "'entry to SMM' and 'deactivate dual-monitor treatment' must be 0 outside SMM",
           VmcsField::entry_controls);
}
}  // namespace

void check_controls(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out) {
  Facts f(vmcs, ctx, out);
  exec_controls(f);
  exit_controls(f);
  entry_controls(f);
}

int entry_check_fields(VmcsField* out, int capacity) {
  // Every field except the read-only VM-exit information fields.
  size_t all = 0;
  const VmcsField* fields = all_fields(&all);
  int n = 0;
  for (size_t i = 0; i < all && n < capacity; ++i)
    if (!field_is_read_only(fields[i])) out[n++] = fields[i];
  return n;
}

}  // namespace mamori::vmx
