#include "vmx/regions.hpp"

#include <string.h>

namespace mamori::vmx {

bool prepare_vmx_region(void* region, size_t size, uint64_t phys, const VmxCapabilities& c) {
  if (c.vmcs_size == 0 || size < c.vmcs_size || (phys & 0xFFF)) return false;
  // App. A.1: with IA32_VMX_BASIC[48] the regions must lie below 4 GiB.
  if (c.physaddr_32bit && (phys + size - 1) >> 32) return false;
  memset(region, 0, size);
  const uint32_t rev = c.revision_id & 0x7FFFFFFFu;
  memcpy(region, &rev, sizeof rev);
  return true;
}

}  // namespace mamori::vmx
