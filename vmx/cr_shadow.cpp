#include "vmx/cr_shadow.hpp"

namespace mamori::vmx {

namespace {
constexpr uint64_t kPe = 1ull << 0, kNw = 1ull << 29, kCd = 1ull << 30, kPg = 1ull << 31;
constexpr uint64_t kVmxe = 1ull << 13;
}  // namespace

CrUpdate cr0_write(const VmxCapabilities& c, bool ug, uint64_t value) {
  if ((value >> 32) || ((value & kPg) && !(value & kPe)) || ((value & kNw) && !(value & kCd)))
    return {true, 0, 0};
  const uint64_t forced = c.cr0_fixed0 & ~(ug ? (kPe | kPg) : 0);
  return {false, (value | forced) & c.cr0_fixed1, value};
}

CrUpdate cr4_write(const VmxCapabilities& c, uint64_t value) {
  if ((value & kVmxe) || (value & ~c.cr4_fixed1)) return {true, 0, 0};
  return {false, value | c.cr4_fixed0, value};
}

LongModeUpdate long_mode_on_cr0_write(uint64_t cr0, uint64_t cr4, uint64_t efer, bool cs_l) {
  constexpr uint64_t kPae = 1ull << 5, kLme = 1ull << 8, kLma = 1ull << 10;
  const bool lma = (efer & kLma) != 0;
  if (cr0 & kPg) {
    if ((efer & kLme) && !(cr4 & kPae)) return {true, efer, lma};
    if (efer & kLme) efer |= kLma;
  } else {
    if (lma && cs_l) return {true, efer, lma};
    efer &= ~kLma;
  }
  return {false, efer, (efer & kLma) != 0};
}

}  // namespace mamori::vmx
