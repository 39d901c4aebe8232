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

// IA-32e mode activation by a MOV to CR0 the VMM emulates (CR0.PG is in
// the guest/host mask, so the CPU does not do it for the guest): SDM 3A
// §10.8.5 "Initializing IA-32e Mode" — setting CR0.PG with EFER.LME = 1
// sets EFER.LMA; clearing CR0.PG clears it. #GP(0) when PG is set with
// LME = 1 and CR4.PAE = 0 (SDM 2 MOV to CR, "Protected Mode Exceptions"),
// and when PG is cleared while in 64-bit code (CS.L = 1: the guest must
// leave 64-bit mode first). The VM-entry control "IA-32e mode guest" must
// equal the new EFER.LMA (SDM 3C §27.3.1.1: with CR0.PG = 1, EFER.LMA and
// EFER.LME must equal it), and guest EFER is what the next entry loads.
struct LongModeUpdate {
  bool inject_gp;
  uint64_t efer;             // guest IA32_EFER after the write
  bool ia32e_mode_guest;     // the entry control after the write
};
LongModeUpdate long_mode_on_cr0_write(uint64_t new_cr0, uint64_t cr4, uint64_t efer, bool cs_l);

}  // namespace mamori::vmx
