// Guest writes to CR0/CR4 under the guest/host masks that vmcs_setup
// installs (SDM Vol. 3C §25.6.6 "Guest/Host Masks and Read Shadows for CR0
// and CR4"; exits on MOV to CR are §26.1.3). The masks own exactly the bits
// VMX forces (IA32_VMX_CR0_FIXED0 minus PE/PG with unrestricted guest, and
// IA32_VMX_CR4_FIXED0 = VMXE): a guest write that changes one of them exits,
// and the VMM answers with cr0_write()/cr4_write(). Pure.
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"

namespace mamori::vmx {

struct CrUpdate {
  bool inject_gp;        // the write is invalid: inject #GP(0), change nothing
  uint64_t guest_value;  // VMWRITE to guest CR0/CR4: the guest's value plus forced bits
  uint64_t read_shadow;  // VMWRITE to the read shadow: what the guest reads back
};

// MOV to CR0 / LMSW / CLTS result `value` (the whole new CR0 as the guest
// sees it). #GP as the SDM Vol. 2 MOV-to-CR0 rules: bits 63:32 set, PG
// without PE, NW without CD.
CrUpdate cr0_write(const VmxCapabilities& caps, bool unrestricted_guest, uint64_t value);

// MOV to CR4. #GP for bits the CPU does not support in VMX operation
// (clear in IA32_VMX_CR4_FIXED1) and for VMXE: mamori hides VMX from guests.
CrUpdate cr4_write(const VmxCapabilities& caps, uint64_t value);

}  // namespace mamori::vmx
