// VMCS component encodings (Intel SDM Vol. 3C, Appendix B "Field Encoding in
// VMCS") as a typed enum. Width, type and access are not stored separately:
// they are derived from the encoding itself (§25.11.2 "VMREAD, VMWRITE, and
// Encodings of VMCS Fields", Table 25-21):
//   bit 0      access type (0 = full, 1 = high 32 bits of a 64-bit field)
//   bits 9:1   index
//   bits 11:10 type  (0 control, 1 VM-exit information, 2 guest state, 3 host state)
//   bit 12     reserved (0)
//   bits 14:13 width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width)
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vmx {

// X(name, encoding) — one line per field; the same list builds the enum,
// the name table and the list of all fields. Order follows App. B.
#define MAMORI_VMCS_FIELDS(X) \
  /* B.1.1 16-bit control fields */ \
  X(vpid,                         0x0000) \
  X(posted_int_notify_vector,     0x0002) \
  X(eptp_index,                   0x0004) \
  /* B.1.2 16-bit guest-state fields */ \
  X(guest_es_selector,            0x0800) \
  X(guest_cs_selector,            0x0802) \
  X(guest_ss_selector,            0x0804) \
  X(guest_ds_selector,            0x0806) \
  X(guest_fs_selector,            0x0808) \
  X(guest_gs_selector,            0x080A) \
  X(guest_ldtr_selector,          0x080C) \
  X(guest_tr_selector,            0x080E) \
  X(guest_interrupt_status,       0x0810) \
  X(guest_pml_index,              0x0812) \
  /* B.1.3 16-bit host-state fields */ \
  X(host_es_selector,             0x0C00) \
  X(host_cs_selector,             0x0C02) \
  X(host_ss_selector,             0x0C04) \
  X(host_ds_selector,             0x0C06) \
  X(host_fs_selector,             0x0C08) \
  X(host_gs_selector,             0x0C0A) \
  X(host_tr_selector,             0x0C0C) \
  /* B.2.1 64-bit control fields */ \
  X(io_bitmap_a,                  0x2000) \
  X(io_bitmap_b,                  0x2002) \
  X(msr_bitmap,                   0x2004) \
  X(exit_msr_store_addr,          0x2006) \
  X(exit_msr_load_addr,           0x2008) \
  X(entry_msr_load_addr,          0x200A) \
  X(executive_vmcs_ptr,           0x200C) \
  X(pml_address,                  0x200E) \
  X(tsc_offset,                   0x2010) \
  X(virtual_apic_addr,            0x2012) \
  X(apic_access_addr,             0x2014) \
  X(posted_int_desc_addr,         0x2016) \
  X(vm_function_controls,         0x2018) \
  X(ept_pointer,                  0x201A) \
  X(eoi_exit_bitmap0,             0x201C) \
  X(eoi_exit_bitmap1,             0x201E) \
  X(eoi_exit_bitmap2,             0x2020) \
  X(eoi_exit_bitmap3,             0x2022) \
  X(eptp_list_addr,               0x2024) \
  X(vmread_bitmap,                0x2026) \
  X(vmwrite_bitmap,               0x2028) \
  X(ve_info_addr,                 0x202A) \
  X(xss_exiting_bitmap,           0x202C) \
  X(encls_exiting_bitmap,         0x202E) \
  X(sppt_pointer,                 0x2030) \
  X(tsc_multiplier,               0x2032) \
  X(tertiary_proc_controls,       0x2034) \
  /* B.2.2 64-bit read-only data field */ \
  X(guest_physical_address,       0x2400) \
  /* B.2.3 64-bit guest-state fields */ \
  X(vmcs_link_pointer,            0x2800) \
  X(guest_ia32_debugctl,          0x2802) \
  X(guest_ia32_pat,               0x2804) \
  X(guest_ia32_efer,              0x2806) \
  X(guest_ia32_perf_global_ctrl,  0x2808) \
  X(guest_pdpte0,                 0x280A) \
  X(guest_pdpte1,                 0x280C) \
  X(guest_pdpte2,                 0x280E) \
  X(guest_pdpte3,                 0x2810) \
  X(guest_ia32_bndcfgs,           0x2812) \
  X(guest_ia32_rtit_ctl,          0x2814) \
  X(guest_ia32_pkrs,              0x2818) \
  /* B.2.4 64-bit host-state fields */ \
  X(host_ia32_pat,                0x2C00) \
  X(host_ia32_efer,               0x2C02) \
  X(host_ia32_perf_global_ctrl,   0x2C04) \
  X(host_ia32_pkrs,               0x2C06) \
  /* B.3.1 32-bit control fields */ \
  X(pin_based_controls,           0x4000) \
  X(proc_based_controls,          0x4002) \
  X(exception_bitmap,             0x4004) \
  X(page_fault_error_code_mask,   0x4006) \
  X(page_fault_error_code_match,  0x4008) \
  X(cr3_target_count,             0x400A) \
  X(exit_controls,                0x400C) \
  X(exit_msr_store_count,         0x400E) \
  X(exit_msr_load_count,          0x4010) \
  X(entry_controls,               0x4012) \
  X(entry_msr_load_count,         0x4014) \
  X(entry_interruption_info,      0x4016) \
  X(entry_exception_error_code,   0x4018) \
  X(entry_instruction_length,     0x401A) \
  X(tpr_threshold,                0x401C) \
  X(secondary_proc_controls,      0x401E) \
  X(ple_gap,                      0x4020) \
  X(ple_window,                   0x4022) \
  /* B.3.2 32-bit read-only data fields */ \
  X(vm_instruction_error,         0x4400) \
  X(exit_reason,                  0x4402) \
  X(exit_interruption_info,       0x4404) \
  X(exit_interruption_error_code, 0x4406) \
  X(idt_vectoring_info,           0x4408) \
  X(idt_vectoring_error_code,     0x440A) \
  X(exit_instruction_length,      0x440C) \
  X(exit_instruction_info,        0x440E) \
  /* B.3.3 32-bit guest-state fields */ \
  X(guest_es_limit,               0x4800) \
  X(guest_cs_limit,               0x4802) \
  X(guest_ss_limit,               0x4804) \
  X(guest_ds_limit,               0x4806) \
  X(guest_fs_limit,               0x4808) \
  X(guest_gs_limit,               0x480A) \
  X(guest_ldtr_limit,             0x480C) \
  X(guest_tr_limit,               0x480E) \
  X(guest_gdtr_limit,             0x4810) \
  X(guest_idtr_limit,             0x4812) \
  X(guest_es_access_rights,       0x4814) \
  X(guest_cs_access_rights,       0x4816) \
  X(guest_ss_access_rights,       0x4818) \
  X(guest_ds_access_rights,       0x481A) \
  X(guest_fs_access_rights,       0x481C) \
  X(guest_gs_access_rights,       0x481E) \
  X(guest_ldtr_access_rights,     0x4820) \
  X(guest_tr_access_rights,       0x4822) \
  X(guest_interruptibility_state, 0x4824) \
  X(guest_activity_state,         0x4826) \
  X(guest_smbase,                 0x4828) \
  X(guest_ia32_sysenter_cs,       0x482A) \
  X(guest_preemption_timer,       0x482E) \
  /* B.3.4 32-bit host-state field */ \
  X(host_ia32_sysenter_cs,        0x4C00) \
  /* B.4.1 natural-width control fields */ \
  X(cr0_guest_host_mask,          0x6000) \
  X(cr4_guest_host_mask,          0x6002) \
  X(cr0_read_shadow,              0x6004) \
  X(cr4_read_shadow,              0x6006) \
  X(cr3_target0,                  0x6008) \
  X(cr3_target1,                  0x600A) \
  X(cr3_target2,                  0x600C) \
  X(cr3_target3,                  0x600E) \
  /* B.4.2 natural-width read-only data fields */ \
  X(exit_qualification,           0x6400) \
  X(io_rcx,                       0x6402) \
  X(io_rsi,                       0x6404) \
  X(io_rdi,                       0x6406) \
  X(io_rip,                       0x6408) \
  X(guest_linear_address,         0x640A) \
  /* B.4.3 natural-width guest-state fields */ \
  X(guest_cr0,                    0x6800) \
  X(guest_cr3,                    0x6802) \
  X(guest_cr4,                    0x6804) \
  X(guest_es_base,                0x6806) \
  X(guest_cs_base,                0x6808) \
  X(guest_ss_base,                0x680A) \
  X(guest_ds_base,                0x680C) \
  X(guest_fs_base,                0x680E) \
  X(guest_gs_base,                0x6810) \
  X(guest_ldtr_base,              0x6812) \
  X(guest_tr_base,                0x6814) \
  X(guest_gdtr_base,              0x6816) \
  X(guest_idtr_base,              0x6818) \
  X(guest_dr7,                    0x681A) \
  X(guest_rsp,                    0x681C) \
  X(guest_rip,                    0x681E) \
  X(guest_rflags,                 0x6820) \
  X(guest_pending_debug_exceptions, 0x6822) \
  X(guest_ia32_sysenter_esp,      0x6824) \
  X(guest_ia32_sysenter_eip,      0x6826) \
  X(guest_ia32_s_cet,             0x6828) \
  X(guest_ssp,                    0x682A) \
  X(guest_ia32_interrupt_ssp_table_addr, 0x682C) \
  /* B.4.4 natural-width host-state fields */ \
  X(host_cr0,                     0x6C00) \
  X(host_cr3,                     0x6C02) \
  X(host_cr4,                     0x6C04) \
  X(host_fs_base,                 0x6C06) \
  X(host_gs_base,                 0x6C08) \
  X(host_tr_base,                 0x6C0A) \
  X(host_gdtr_base,               0x6C0C) \
  X(host_idtr_base,               0x6C0E) \
  X(host_ia32_sysenter_esp,       0x6C10) \
  X(host_ia32_sysenter_eip,       0x6C12) \
  X(host_rsp,                     0x6C14) \
  X(host_rip,                     0x6C16) \
  X(host_ia32_s_cet,              0x6C18) \
  X(host_ssp,                     0x6C1A) \
  X(host_ia32_interrupt_ssp_table_addr, 0x6C1C)

enum class VmcsField : uint32_t {
#define MAMORI_X(name, enc) name = enc,
  MAMORI_VMCS_FIELDS(MAMORI_X)
#undef MAMORI_X
};

// How many fields the table holds.
#define MAMORI_X(name, enc) +1
inline constexpr size_t kVmcsFieldCount = 0 MAMORI_VMCS_FIELDS(MAMORI_X);
#undef MAMORI_X

// §25.11.2 Table 25-21, bits 14:13.
enum class FieldWidth : uint8_t { bits16 = 0, bits64 = 1, bits32 = 2, natural = 3 };
// §25.11.2 Table 25-21, bits 11:10.
enum class FieldType : uint8_t { control = 0, exit_info = 1, guest_state = 2, host_state = 3 };

constexpr uint32_t encoding(VmcsField f) { return static_cast<uint32_t>(f); }
constexpr FieldWidth field_width(VmcsField f) {
  return static_cast<FieldWidth>((encoding(f) >> 13) & 3);
}
constexpr FieldType field_type(VmcsField f) {
  return static_cast<FieldType>((encoding(f) >> 10) & 3);
}
constexpr unsigned field_index(VmcsField f) { return (encoding(f) >> 1) & 0x1FF; }
// Access type "high": the upper 32 bits of a 64-bit field (encoding | 1).
constexpr bool field_is_high_access(uint32_t enc) { return (enc & 1) != 0; }
// The VM-exit information fields are read-only (§25.11.2; writable only with
// IA32_VMX_MISC[29] "VMWRITE to any field").
constexpr bool field_is_read_only(VmcsField f) { return field_type(f) == FieldType::exit_info; }
// Bits a field can hold; natural-width fields are 64 bits on a 64-bit CPU.
constexpr unsigned field_bits(VmcsField f) {
  switch (field_width(f)) {
    case FieldWidth::bits16: return 16;
    case FieldWidth::bits32: return 32;
    default: return 64;
  }
}
constexpr uint64_t field_mask(VmcsField f) {
  return field_bits(f) == 64 ? ~0ull : ((1ull << field_bits(f)) - 1);
}
// Whether IA32_VMX_VMCS_ENUM's highest index (App. A.9) covers the field.
// Advisory only: real CPUs under-report it (see field_support.cpp).
constexpr bool field_within_vmcs_enum(VmcsField f, unsigned highest_index) {
  return field_index(f) <= highest_index;
}

// "guest_cs_selector" etc.; "unknown" for encodings not in the table.
const char* field_name(VmcsField f);
const char* field_name(uint32_t encoding);
// Every field in App. B order (for dumps and for reading a whole VMCS image).
const VmcsField* all_fields(size_t* count);

}  // namespace mamori::vmx
