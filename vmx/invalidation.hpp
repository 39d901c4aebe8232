// INVEPT and INVVPID (SDM Vol. 3C ch. 30 instruction reference, §29.4.3):
// which type this CPU offers (IA32_VMX_EPT_VPID_CAP, App. A.10) and the
// 128-bit descriptors the instructions take. Pure; the VMM issues them.
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"

namespace mamori::vmx {

enum class InveptType : uint64_t { single_context = 1, all_context = 2 };
enum class InvvpidType : uint64_t {
  individual_address = 0,
  single_context = 1,
  all_context = 2,
  single_context_retaining_globals = 3,
};

struct alignas(16) InveptDescriptor {
  uint64_t eptp;
  uint64_t reserved = 0;
};
struct alignas(16) InvvpidDescriptor {
  uint64_t vpid;  // bits 15:0; 63:16 must be 0
  uint64_t linear_address;
};
static_assert(sizeof(InveptDescriptor) == 16 && sizeof(InvvpidDescriptor) == 16);

// Flushing one guest's EPT: single-context if offered, else all-context.
// False if INVEPT is not available at all.
bool invept_type_for_one_guest(const VmxCapabilities& c, InveptType* out);
// Flushing one VPID: single-context, else all-context. False if neither.
bool invvpid_type_for_one_guest(const VmxCapabilities& c, InvvpidType* out);

}  // namespace mamori::vmx
