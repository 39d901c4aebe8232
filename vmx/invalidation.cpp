#include "vmx/invalidation.hpp"

namespace mamori::vmx {

bool invept_type_for_one_guest(const VmxCapabilities& c, InveptType* out) {
  if (!c.ept.invept) return false;
  if (c.ept.invept_single_context) {
    *out = InveptType::single_context;
    return true;
  }
  if (c.ept.invept_all_context) {
    *out = InveptType::all_context;
    return true;
  }
  return false;
}

bool invvpid_type_for_one_guest(const VmxCapabilities& c, InvvpidType* out) {
  if (!c.ept.invvpid) return false;
  if (c.ept.invvpid_single_context) {
    *out = InvvpidType::single_context;
    return true;
  }
  if (c.ept.invvpid_all_context) {
    *out = InvvpidType::all_context;
    return true;
  }
  return false;
}

}  // namespace mamori::vmx
