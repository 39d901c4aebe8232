// A VMCS image: field → value, filled by host tests directly and by the VMM
// with VMREAD (for each of entry_check_fields()). Fixed capacity, no
// allocation; values are truncated to the field's width (§25.11.2).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmx/vmcs_field.hpp"

namespace mamori::vmx {

class VmcsImage {
 public:
  VmcsImage() {}  // entries_ beyond count_ are never read
  static constexpr int kCapacity = 192;
  static_assert(kVmcsFieldCount <= kCapacity, "a VmcsImage must hold every App. B field");

  // False only when full (a new field beyond kCapacity).
  bool set(VmcsField f, uint64_t value);
  // 0 for a field never set (as a cleared VMCS reads, §25.11.3).
  uint64_t get(VmcsField f) const;
  bool has(VmcsField f) const;
  void erase(VmcsField f);
  int size() const { return count_; }
  // Calls f(VmcsField, uint64_t) for every field set (in insertion order,
  // disturbed by erase()).
  template <class F>
  void for_each(F&& f) const {
    for (int i = 0; i < count_; ++i) f(static_cast<VmcsField>(entries_[i].encoding), entries_[i].value);
  }

 private:
  struct Entry {
    uint32_t encoding;
    uint64_t value;
  };
  int find(VmcsField f) const;
  Entry entries_[kCapacity];
  int count_ = 0;
};

}  // namespace mamori::vmx
