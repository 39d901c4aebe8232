// Preparing for VMXON and VMPTRLD (SDM Vol. 3C §24.7 "Enabling and Entering
// VMX Operation", §25.2 "Format of the VMCS Region", App. A.7/A.8): the
// CR0/CR4 values VMX demands and the VMXON/VMCS region header. Pure.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmx/capabilities.hpp"

namespace mamori::vmx {

// CR0/CR4 as VMXON requires: FIXED0 bits set, bits clear in FIXED1 cleared
// (CR4.VMXE is a FIXED0 bit).
constexpr uint64_t adjust_cr0(const VmxCapabilities& c, uint64_t cr0) {
  return (cr0 | c.cr0_fixed0) & c.cr0_fixed1;
}
constexpr uint64_t adjust_cr4(const VmxCapabilities& c, uint64_t cr4) {
  return (cr4 | c.cr4_fixed0) & c.cr4_fixed1;
}

// Zero `size` bytes of a 4-KiB aligned region and write the revision
// identifier (bits 30:0; bit 31 = 0: not a shadow VMCS) into its first 4
// bytes. Used for the VMXON region and for each VMCS before VMCLEAR.
// Returns false if the region is too small for caps.vmcs_size or misaligned.
bool prepare_vmx_region(void* region, size_t size, uint64_t region_phys, const VmxCapabilities& c);

}  // namespace mamori::vmx
