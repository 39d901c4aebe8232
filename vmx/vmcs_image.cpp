#include "vmx/vmcs_image.hpp"

namespace mamori::vmx {

int VmcsImage::find(VmcsField f) const {
  for (int i = 0; i < count_; ++i)
    if (entries_[i].encoding == encoding(f)) return i;
  return -1;
}

bool VmcsImage::set(VmcsField f, uint64_t value) {
  value &= field_mask(f);
  const int i = find(f);
  if (i >= 0) {
    entries_[i].value = value;
    return true;
  }
  if (count_ == kCapacity) return false;
  entries_[count_++] = {encoding(f), value};
  return true;
}

uint64_t VmcsImage::get(VmcsField f) const {
  const int i = find(f);
  return i >= 0 ? entries_[i].value : 0;
}

bool VmcsImage::has(VmcsField f) const { return find(f) >= 0; }

void VmcsImage::erase(VmcsField f) {
  const int i = find(f);
  if (i < 0) return;
  entries_[i] = entries_[--count_];
}

}  // namespace mamori::vmx
