// VM-entry checker: the checks a processor performs on VMLAUNCH/VMRESUME
// (Intel SDM Vol. 3C ch. 27 "VM Entries": §27.2.1 VMX controls, §27.2.2-27.2.4
// host state and address-space size, §27.3.1 guest state), done in software
// over a VmcsImage so that a failed entry on real hardware is explained on the
// serial console by rule, in words, with its SDM section. Pure.
//
// Not checked (needs memory or state the image does not hold): the VMCS
// link pointer's target revision, MSR-load list contents, the virtual-APIC
// page's VTPR, PDPTEs read from guest memory when EPT is off (§27.3.1.6 then
// reads CR3), SMM-only rules beyond "not in SMM".
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/vmcs_field.hpp"
#include "vmx/vmcs_image.hpp"

namespace mamori::vmx {

enum class RuleGroup : uint8_t {
  exec_controls,           // §27.2.1.1
  exit_controls,           // §27.2.1.2
  entry_controls,          // §27.2.1.3
  host_control_regs_msrs,  // §27.2.2
  host_segments,           // §27.2.3
  host_address_space,      // §27.2.4
  guest_control_regs_msrs, // §27.3.1.1
  guest_segments,          // §27.3.1.2
  guest_descriptor_tables, // §27.3.1.3
  guest_rip_rflags,        // §27.3.1.4
  guest_non_register,      // §27.3.1.5 activity, interruptibility, pending debug, link pointer
  guest_pdptes,            // §27.3.1.6
};
constexpr int kRuleGroups = 12;
const char* rule_group_name(RuleGroup g);

struct Violation {
  RuleGroup group;
  const char* section;  // "27.3.1.2"
  const char* rule;     // "guest CS: type must be 9, 11, 13 or 15 (3 with unrestricted guest)"
  VmcsField field;      // the field that carries the offending value
  uint64_t value;       // its value
};

struct EntryCheckReport {
  static constexpr int kMax = 64;
  Violation violations[kMax];
  int count = 0;
  int dropped = 0;  // violations beyond kMax

  bool ok() const { return count == 0 && dropped == 0; }
  bool has(RuleGroup g) const;
  // True if some violation's rule text contains `needle` (tests, system tests).
  bool mentions(const char* needle) const;
  void add(RuleGroup g, const char* section, const char* rule, VmcsField f, uint64_t v);
};

struct EntryCheckContext {
  const VmxCapabilities* caps = nullptr;  // required
  unsigned maxphyaddr = 36;        // CPUID.80000008H:EAX[7:0]
  unsigned linear_address_bits = 48;  // 57 with CR4.LA57
  bool in_smm = false;
  bool host_efer_lma = true;       // the VMM runs in IA-32e mode (§27.2.4)
  // The SDM allows a link pointer other than all ones if the 32 bits at that
  // address hold this CPU's VMCS revision (§27.3.1.5) — memory the checker
  // cannot read. mamori uses no shadow VMCS, so by default anything but all
  // ones is reported.
  bool link_pointer_must_be_all_ones = true;
};

// Check everything; the report lists every failing rule (not only the first).
// Violations are appended to `out` (about 2 KiB: keep it off small stacks).
void check_vm_entry(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out);

// The groups one at a time (check_vm_entry runs all three).
void check_controls(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out);
void check_host_state(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out);
void check_guest_state(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out);

// The fields the checker may read (all but the read-only exit information):
// what the VMM VMREADs into the image. Writes up to `capacity` fields to
// `out` and returns how many. A field this CPU lacks (VMREAD fails with
// VM-instruction error 12; see field_within_vmcs_enum) is simply left out.
int entry_check_fields(VmcsField* out, int capacity);

}  // namespace mamori::vmx
