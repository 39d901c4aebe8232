// The VMX capability record: raw capability MSR values (Intel SDM Vol. 3D
// App. A "VMX Capability Reporting Facility") decoded into typed fields.
// Pure: the VMM reads the MSRs (see msr_present()) and calls decode().
#pragma once
#include <stdint.h>

#include "vmx/controls.hpp"

namespace mamori::vmx {

// Raw values as read with RDMSR / CPUID. Absent MSRs stay 0.
struct RawVmxMsrs {
  bool cpuid_vmx = false;          // CPUID.1:ECX[5]
  uint64_t feature_control = 0;    // IA32_FEATURE_CONTROL (0x3A)
  uint64_t basic = 0;              // 0x480
  uint64_t pinbased = 0;           // 0x481
  uint64_t procbased = 0;          // 0x482
  uint64_t exit = 0;               // 0x483
  uint64_t entry = 0;              // 0x484
  uint64_t misc = 0;               // 0x485
  uint64_t cr0_fixed0 = 0;         // 0x486
  uint64_t cr0_fixed1 = 0;         // 0x487
  uint64_t cr4_fixed0 = 0;         // 0x488
  uint64_t cr4_fixed1 = 0;         // 0x489
  uint64_t vmcs_enum = 0;          // 0x48A
  uint64_t procbased2 = 0;         // 0x48B
  uint64_t ept_vpid_cap = 0;       // 0x48C
  uint64_t true_pinbased = 0;      // 0x48D
  uint64_t true_procbased = 0;     // 0x48E
  uint64_t true_exit = 0;          // 0x48F
  uint64_t true_entry = 0;         // 0x490
  uint64_t vmfunc = 0;             // 0x491

  // Store a value by MSR index (0x3A, 0x480-0x491); false if not one of ours.
  bool set(uint32_t msr_index, uint64_t value);
};

// Whether MSR `index` exists on this CPU, judged from the MSRs already read
// (read them in index order: 0x480 first). RDMSR of an absent one is #GP.
//   0x48B exists iff PROCBASED_CTLS allowed-1 bit 31 (App. A.3.2)
//   0x48C iff PROCBASED_CTLS2 allows EPT (bit 1) or VPID (bit 5) (App. A.10)
//   0x48D-0x490 iff IA32_VMX_BASIC[55] (App. A.1)
//   0x491 iff PROCBASED_CTLS2 allows "enable VM functions" (bit 13) (App. A.11)
bool msr_present(const RawVmxMsrs& read_so_far, uint32_t msr_index);

// One control word's capability (App. A.3): bits 31:0 of the MSR are the
// allowed 0-settings (a 1 there means the control must be 1), bits 63:32
// the allowed 1-settings (a 0 there means the control must be 0).
struct ControlCapability {
  uint32_t must_be_one = 0;
  uint32_t may_be_one = 0;
  static constexpr ControlCapability from_msr(uint64_t v) {
    return {static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
  }
  constexpr bool can_set(uint32_t bits) const { return (may_be_one & bits) == bits; }
  constexpr bool can_clear(uint32_t bits) const { return (must_be_one & bits) == 0; }
  // The value obeys both masks.
  constexpr bool accepts(uint32_t value) const {
    return (value & must_be_one) == must_be_one && (value & ~may_be_one) == 0;
  }
};

// Memory types as encoded in IA32_VMX_BASIC[53:50] and in EPT (SDM Vol. 3A §11.3).
enum class MemoryType : uint8_t { uc = 0, wc = 1, wt = 4, wp = 5, wb = 6 };

struct EptVpidCapability {  // App. A.10
  bool execute_only = false;        // bit 0
  bool walk_length_4 = false;       // bit 6
  bool walk_length_5 = false;       // bit 7
  bool memory_type_uc = false;      // bit 8
  bool memory_type_wb = false;      // bit 14
  bool pages_2m = false;            // bit 16
  bool pages_1g = false;            // bit 17
  bool invept = false;              // bit 20
  bool accessed_dirty = false;      // bit 21
  bool advanced_exit_info = false;  // bit 22
  bool supervisor_shadow_stack = false;  // bit 23
  bool invept_single_context = false;    // bit 25
  bool invept_all_context = false;       // bit 26
  bool invvpid = false;                  // bit 32
  bool invvpid_individual_address = false;  // bit 40
  bool invvpid_single_context = false;      // bit 41
  bool invvpid_all_context = false;         // bit 42
  bool invvpid_single_context_retaining_globals = false;  // bit 43
};

struct MiscCapability {  // App. A.6
  unsigned preemption_timer_shift = 0;  // bits 4:0: timer ticks every 2^n TSC
  bool store_efer_lma = false;          // bit 5
  bool activity_hlt = false;            // bit 6
  bool activity_shutdown = false;       // bit 7
  bool activity_wait_for_sipi = false;  // bit 8
  bool pt_in_vmx = false;               // bit 14
  bool rdmsr_smbase_in_smm = false;     // bit 15
  unsigned cr3_target_count = 0;        // bits 24:16
  unsigned max_msr_list = 0;            // 512 * (bits 27:25 + 1)
  bool vmxoff_blocks_smi = false;       // bit 28
  bool vmwrite_any_field = false;       // bit 29
  bool inject_zero_length = false;      // bit 30
  uint32_t mseg_revision = 0;           // bits 63:32
};

struct VmxCapabilities {
  bool cpuid_vmx = false;
  // IA32_VMX_BASIC (App. A.1)
  uint32_t revision_id = 0;             // bits 30:0
  uint32_t vmcs_size = 0;               // bits 44:32, bytes (<= 4096)
  bool physaddr_32bit = false;          // bit 48: VMXON/VMCS addresses < 4 GiB
  bool dual_monitor = false;            // bit 49
  MemoryType vmcs_memory_type = MemoryType::uc;  // bits 53:50
  bool ins_outs_info = false;           // bit 54
  bool true_controls = false;           // bit 55: TRUE_* MSRs exist
  bool entry_exception_no_error_code = false;  // bit 56

  // Effective capabilities per control word: from the TRUE MSRs where they
  // exist (App. A.3.1), else the legacy ones; secondary controls are all
  // "must be 0" unless the primary word may set bit 31 (App. A.3.3).
  ControlCapability controls[kControlKinds];
  // The legacy (non-TRUE) MSRs, kept for printing.
  ControlCapability legacy_controls[kControlKinds];

  MiscCapability misc;
  // App. A.7/A.8: a 1 in FIXED0 = must be 1; a 0 in FIXED1 = must be 0.
  uint64_t cr0_fixed0 = 0, cr0_fixed1 = 0, cr4_fixed0 = 0, cr4_fixed1 = 0;
  unsigned vmcs_highest_index = 0;      // IA32_VMX_VMCS_ENUM bits 9:1 (App. A.9)
  EptVpidCapability ept;
  uint64_t vmfunc = 0;                  // App. A.11: bit n = VM function n allowed

  const ControlCapability& control(ControlKind k) const {
    return controls[static_cast<int>(k)];
  }
  // Convenience: can the control be set to 1?
  bool can(PinCtl c) const { return control(ControlKind::pin).can_set(bit_of(c)); }
  bool can(ProcCtl c) const { return control(ControlKind::proc).can_set(bit_of(c)); }
  bool can(Proc2Ctl c) const { return control(ControlKind::proc2).can_set(bit_of(c)); }
  bool can(ExitCtl c) const { return control(ControlKind::exit).can_set(bit_of(c)); }
  bool can(EntryCtl c) const { return control(ControlKind::entry).can_set(bit_of(c)); }

  // Derived features mamori cares about.
  bool secondary_controls() const { return can(ProcCtl::secondary_controls); }
  bool ept_enabled_possible() const { return can(Proc2Ctl::enable_ept); }
  bool unrestricted_guest() const {
    return can(Proc2Ctl::unrestricted_guest) && can(Proc2Ctl::enable_ept);
  }
  bool vpid() const { return can(Proc2Ctl::enable_vpid); }
  bool preemption_timer() const { return can(PinCtl::preemption_timer); }
  bool msr_bitmaps() const { return can(ProcCtl::msr_bitmaps); }
  bool io_bitmaps() const { return can(ProcCtl::io_bitmaps); }
};

// Decode the raw values. No judgement here: see readiness.hpp.
VmxCapabilities decode(const RawVmxMsrs& raw);

}  // namespace mamori::vmx
