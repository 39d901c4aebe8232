// VM-execution, VM-exit and VM-entry control bits (Intel SDM Vol. 3C §25.6.1
// Table 25-5 pin-based, §25.6.2 Tables 25-6/25-7 primary and secondary
// processor-based, §25.7.1 Table 25-13 exit, §25.8.1 Table 25-15 entry) and
// their "default1" classes (App. A.2 and A.3-A.5).
#pragma once
#include <stdint.h>

namespace mamori::vmx {

#define MAMORI_PIN_CONTROLS(X) \
  X(external_interrupt_exiting, 0) \
  X(nmi_exiting,                3) \
  X(virtual_nmis,               5) \
  X(preemption_timer,           6) \
  X(posted_interrupts,          7)

#define MAMORI_PROC_CONTROLS(X) \
  X(interrupt_window_exiting,   2) \
  X(tsc_offsetting,             3) \
  X(hlt_exiting,                7) \
  X(invlpg_exiting,             9) \
  X(mwait_exiting,             10) \
  X(rdpmc_exiting,             11) \
  X(rdtsc_exiting,             12) \
  X(cr3_load_exiting,          15) \
  X(cr3_store_exiting,         16) \
  X(tertiary_controls,         17) \
  X(cr8_load_exiting,          19) \
  X(cr8_store_exiting,         20) \
  X(tpr_shadow,                21) \
  X(nmi_window_exiting,        22) \
  X(mov_dr_exiting,            23) \
  X(unconditional_io_exiting,  24) \
  X(io_bitmaps,                25) \
  X(monitor_trap_flag,         27) \
  X(msr_bitmaps,               28) \
  X(monitor_exiting,           29) \
  X(pause_exiting,             30) \
  X(secondary_controls,        31)

#define MAMORI_PROC2_CONTROLS(X) \
  X(virtualize_apic_accesses,   0) \
  X(enable_ept,                 1) \
  X(descriptor_table_exiting,   2) \
  X(enable_rdtscp,              3) \
  X(virtualize_x2apic,          4) \
  X(enable_vpid,                5) \
  X(wbinvd_exiting,             6) \
  X(unrestricted_guest,         7) \
  X(apic_register_virtualization, 8) \
  X(virtual_interrupt_delivery, 9) \
  X(pause_loop_exiting,        10) \
  X(rdrand_exiting,            11) \
  X(enable_invpcid,            12) \
  X(enable_vmfunc,             13) \
  X(vmcs_shadowing,            14) \
  X(encls_exiting,             15) \
  X(rdseed_exiting,            16) \
  X(enable_pml,                17) \
  X(ept_violation_ve,          18) \
  X(conceal_vmx_from_pt,       19) \
  X(enable_xsaves,             20) \
  X(mode_based_ept_execute,    22) \
  X(ept_subpage_write,         23) \
  X(pt_guest_physical,         24) \
  X(tsc_scaling,               25) \
  X(user_wait_pause,           26) \
  X(enclv_exiting,             28)

#define MAMORI_EXIT_CONTROLS(X) \
  X(save_debug_controls,        2) \
  X(host_address_space_size,    9) \
  X(load_perf_global_ctrl,     12) \
  X(ack_interrupt_on_exit,     15) \
  X(save_pat,                  18) \
  X(load_pat,                  19) \
  X(save_efer,                 20) \
  X(load_efer,                 21) \
  X(save_preemption_timer,     22) \
  X(clear_bndcfgs,             23) \
  X(conceal_vmx_from_pt,       24) \
  X(clear_rtit_ctl,            25) \
  X(load_cet_state,            28) \
  X(load_pkrs,                 29)

#define MAMORI_ENTRY_CONTROLS(X) \
  X(load_debug_controls,        2) \
  X(ia32e_mode_guest,           9) \
  X(entry_to_smm,              10) \
  X(deactivate_dual_monitor,   11) \
  X(load_perf_global_ctrl,     13) \
  X(load_pat,                  14) \
  X(load_efer,                 15) \
  X(load_bndcfgs,              16) \
  X(conceal_vmx_from_pt,       17) \
  X(load_rtit_ctl,             18) \
  X(load_cet_state,            20) \
  X(load_pkrs,                 22)

#define MAMORI_X(name, b) name = 1u << b,
enum class PinCtl : uint32_t { MAMORI_PIN_CONTROLS(MAMORI_X) };
enum class ProcCtl : uint32_t { MAMORI_PROC_CONTROLS(MAMORI_X) };
enum class Proc2Ctl : uint32_t { MAMORI_PROC2_CONTROLS(MAMORI_X) };
enum class ExitCtl : uint32_t { MAMORI_EXIT_CONTROLS(MAMORI_X) };
enum class EntryCtl : uint32_t { MAMORI_ENTRY_CONTROLS(MAMORI_X) };
#undef MAMORI_X

// The five control words, in the order of the capability MSRs.
enum class ControlKind : uint8_t { pin, proc, proc2, exit, entry };
constexpr int kControlKinds = 5;

// Default1 classes (App. A.3.1, A.3.2, A.4, A.5): reserved bits that the
// non-TRUE capability MSRs report as must-be-1 and the TRUE MSRs may allow
// to be 0. Secondary controls have no default1 bits.
constexpr uint32_t kPinDefault1 = 0x00000016;    // bits 1, 2, 4
constexpr uint32_t kProcDefault1 = 0x0401E172;   // bits 1, 4-6, 8, 13-16, 26
constexpr uint32_t kProc2Default1 = 0;
constexpr uint32_t kExitDefault1 = 0x00036DFF;   // bits 0-8, 10, 11, 13, 14, 16, 17
constexpr uint32_t kEntryDefault1 = 0x000011FF;  // bits 0-8, 12

constexpr uint32_t default1_mask(ControlKind k) {
  switch (k) {
    case ControlKind::pin: return kPinDefault1;
    case ControlKind::proc: return kProcDefault1;
    case ControlKind::proc2: return kProc2Default1;
    case ControlKind::exit: return kExitDefault1;
    case ControlKind::entry: return kEntryDefault1;
  }
  return 0;
}

constexpr uint32_t bit_of(PinCtl c) { return static_cast<uint32_t>(c); }
constexpr uint32_t bit_of(ProcCtl c) { return static_cast<uint32_t>(c); }
constexpr uint32_t bit_of(Proc2Ctl c) { return static_cast<uint32_t>(c); }
constexpr uint32_t bit_of(ExitCtl c) { return static_cast<uint32_t>(c); }
constexpr uint32_t bit_of(EntryCtl c) { return static_cast<uint32_t>(c); }

// "pin-based", "primary processor-based", ...
const char* control_kind_name(ControlKind k);
// Name of control bit `bit` (0..31) of a control word, e.g. (proc2, 1) →
// "enable_ept"; "reserved" for bits without a name (incl. default1 bits).
const char* control_bit_name(ControlKind k, unsigned bit);
// True if the bit has a name (is a defined control, not reserved/default1).
bool control_bit_known(ControlKind k, unsigned bit);

}  // namespace mamori::vmx
