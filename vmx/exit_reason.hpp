// Basic VM-exit reasons (Intel SDM Vol. 3C, Appendix C "VMX Basic Exit
// Reasons", Table C-1) and the layout of the exit-reason field (§25.9.1,
// Table 25-18).
#pragma once
#include <stdint.h>

namespace mamori::vmx {

#define MAMORI_EXIT_REASONS(X) \
  X(exception_or_nmi,            0) \
  X(external_interrupt,          1) \
  X(triple_fault,                2) \
  X(init_signal,                 3) \
  X(sipi,                        4) \
  X(io_smi,                      5) \
  X(other_smi,                   6) \
  X(interrupt_window,            7) \
  X(nmi_window,                  8) \
  X(task_switch,                 9) \
  X(cpuid,                      10) \
  X(getsec,                     11) \
  X(hlt,                        12) \
  X(invd,                       13) \
  X(invlpg,                     14) \
  X(rdpmc,                      15) \
  X(rdtsc,                      16) \
  X(rsm,                        17) \
  X(vmcall,                     18) \
  X(vmclear,                    19) \
  X(vmlaunch,                   20) \
  X(vmptrld,                    21) \
  X(vmptrst,                    22) \
  X(vmread,                     23) \
  X(vmresume,                   24) \
  X(vmwrite,                    25) \
  X(vmxoff,                     26) \
  X(vmxon,                      27) \
  X(cr_access,                  28) \
  X(mov_dr,                     29) \
  X(io_instruction,             30) \
  X(rdmsr,                      31) \
  X(wrmsr,                      32) \
  X(entry_fail_guest_state,     33) \
  X(entry_fail_msr_loading,     34) \
  X(mwait,                      36) \
  X(monitor_trap_flag,          37) \
  X(monitor,                    39) \
  X(pause,                      40) \
  X(entry_fail_machine_check,   41) \
  X(tpr_below_threshold,        43) \
  X(apic_access,                44) \
  X(virtualized_eoi,            45) \
  X(gdtr_idtr_access,           46) \
  X(ldtr_tr_access,             47) \
  X(ept_violation,              48) \
  X(ept_misconfiguration,       49) \
  X(invept,                     50) \
  X(rdtscp,                     51) \
  X(preemption_timer,           52) \
  X(invvpid,                    53) \
  X(wbinvd,                     54) \
  X(xsetbv,                     55) \
  X(apic_write,                 56) \
  X(rdrand,                     57) \
  X(invpcid,                    58) \
  X(vmfunc,                     59) \
  X(encls,                      60) \
  X(rdseed,                     61) \
  X(pml_full,                   62) \
  X(xsaves,                     63) \
  X(xrstors,                    64) \
  X(pconfig,                    65) \
  X(spp_event,                  66) \
  X(umwait,                     67) \
  X(tpause,                     68) \
  X(loadiwkey,                  69) \
  X(enclv,                      70) \
  X(enqcmd_pasid_fail,          72) \
  X(enqcmds_pasid_fail,         73) \
  X(bus_lock,                   74) \
  X(instruction_timeout,        75) \
  X(seamcall,                   76) \
  X(tdcall,                     77)

enum class ExitReason : uint16_t {
#define MAMORI_X(name, num) name = num,
  MAMORI_EXIT_REASONS(MAMORI_X)
#undef MAMORI_X
};

// "cpuid", "ept_violation", ...; "unknown" for numbers not in Table C-1.
const char* exit_reason_name(ExitReason r);
const char* exit_reason_name(uint32_t basic_reason);

// The 32-bit exit-reason VMCS field (§25.9.1, Table 25-18).
struct ExitReasonField {
  uint32_t raw;
  constexpr ExitReason basic() const { return static_cast<ExitReason>(raw & 0xFFFF); }
  constexpr uint16_t basic_number() const { return static_cast<uint16_t>(raw & 0xFFFF); }
  constexpr bool enclave_mode() const { return (raw >> 27) & 1; }
  constexpr bool pending_mtf() const { return (raw >> 28) & 1; }
  constexpr bool from_vmx_root() const { return (raw >> 29) & 1; }
  // Bit 31: the exit was a VM-entry failure (§27.8: reasons 33, 34, 41).
  constexpr bool entry_failure() const { return (raw >> 31) & 1; }
};

// VM-instruction error numbers (§31.4 "VM Instruction Error Numbers",
// Table 31-1), read from the VM-instruction error field after VMfailValid.
enum class VmInstructionError : uint32_t {
  vmcall_in_root = 1,
  vmclear_invalid_address = 2,
  vmclear_vmxon_pointer = 3,
  vmlaunch_nonclear_vmcs = 4,
  vmresume_nonlaunched_vmcs = 5,
  vmresume_after_vmxoff = 6,
  entry_invalid_control_fields = 7,
  entry_invalid_host_state = 8,
  vmptrld_invalid_address = 9,
  vmptrld_vmxon_pointer = 10,
  vmptrld_wrong_revision = 11,
  vmread_vmwrite_unsupported_field = 12,
  vmwrite_read_only_field = 13,
  vmxon_in_root = 15,
  entry_invalid_executive_vmcs = 16,
  entry_nonlaunched_executive_vmcs = 17,
  entry_executive_vmcs_not_vmxon = 18,
  vmcall_nonclear_vmcs = 19,
  vmcall_invalid_exit_controls = 20,
  vmcall_wrong_mseg_revision = 22,
  vmxoff_dual_monitor = 23,
  vmcall_invalid_smm_monitor = 24,
  entry_invalid_executive_controls = 25,
  entry_blocked_by_mov_ss = 26,
  invept_invvpid_invalid_operand = 28,
};
// Words for the console, e.g. "VM entry with invalid host-state field(s)".
const char* vm_instruction_error_text(uint32_t number);

}  // namespace mamori::vmx
