// Which VMCS fields exist on this CPU. Many fields exist only on processors
// that support the 1-setting of a control (SDM Vol. 3C §25.4-25.9: "This
// field is supported only on processors that support the 1-setting of ...");
// VMREAD/VMWRITE of any other field fails with VM-instruction error 12.
// Pure; the helpers below take the VMM's VMREAD/VMWRITE as callables.
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/vmcs_field.hpp"
#include "vmx/vmcs_image.hpp"

namespace mamori::vmx {

bool field_supported(VmcsField f, const VmxCapabilities& caps);

// VMWRITE every field of the image this CPU has; returns how many fields
// were skipped as unsupported. write(VmcsField, uint64_t) -> bool (false =
// VMWRITE failed); the first failure stops and is returned as -1.
template <class Write>
int write_image(const VmcsImage& img, const VmxCapabilities& caps, Write&& write) {
  int skipped = 0;
  bool failed = false;
  img.for_each([&](VmcsField f, uint64_t v) {
    if (failed) return;
    if (!field_supported(f, caps) || field_is_read_only(f)) {
      ++skipped;
      return;
    }
    if (!write(f, v)) failed = true;
  });
  return failed ? -1 : skipped;
}

// VMREAD every writable field this CPU has into `img` (for the VM-entry
// checker after a failed entry). read(VmcsField, uint64_t*) -> bool.
template <class Read>
void read_image(VmcsImage& img, const VmxCapabilities& caps, Read&& read) {
  size_t n = 0;
  const VmcsField* fields = all_fields(&n);
  for (size_t i = 0; i < n; ++i) {
    const VmcsField f = fields[i];
    if (field_is_read_only(f) || !field_supported(f, caps)) continue;
    uint64_t v = 0;
    if (read(f, &v)) img.set(f, v);
  }
}

}  // namespace mamori::vmx
