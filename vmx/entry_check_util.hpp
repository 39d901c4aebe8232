// Internal helpers shared by the entry_check_*.cpp files.
#pragma once
#include <stdint.h>

#include "vmx/controls.hpp"
#include "vmx/entry_check.hpp"
#include "vmx/exit_qualification.hpp"

namespace mamori::vmx::detail {

constexpr bool canonical(uint64_t a, unsigned bits) {
  const uint64_t upper = a >> (bits - 1);
  return upper == 0 || upper == (~0ull >> (bits - 1));
}
constexpr bool within_phys(uint64_t a, unsigned maxphy) { return maxphy >= 64 || (a >> maxphy) == 0; }
constexpr bool page_aligned_phys(uint64_t a, unsigned maxphy) {
  return (a & 0xFFF) == 0 && within_phys(a, maxphy);
}
// IA32_PAT / guest PAT field: each byte must be a valid memory type
// (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-) (§27.2.2, §27.3.1.1).
constexpr bool pat_valid(uint64_t pat) {
  for (int i = 0; i < 8; ++i) {
    const uint64_t t = (pat >> (8 * i)) & 0xFF;
    if (t == 2 || t == 3 || t > 7) return false;
  }
  return true;
}
// IA32_EFER bits that may be 1: SCE(0), LME(8), LMA(10), NXE(11).
constexpr uint64_t kEferDefined = (1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11);
constexpr uint64_t kEferLme = 1ull << 8;
constexpr uint64_t kEferLma = 1ull << 10;

constexpr uint64_t kCr0Pe = 1ull << 0;
constexpr uint64_t kCr0Wp = 1ull << 16;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kCr4Pcide = 1ull << 17;
constexpr uint64_t kCr4Cet = 1ull << 23;

constexpr uint64_t kRflagsTf = 1ull << 8;
constexpr uint64_t kRflagsIf = 1ull << 9;
constexpr uint64_t kRflagsVm = 1ull << 17;

// Guest segment access rights (§25.4.1, Table 25-2).
struct AccessRights {
  uint32_t raw;
  constexpr unsigned type() const { return raw & 0xF; }
  constexpr bool s() const { return (raw >> 4) & 1; }
  constexpr unsigned dpl() const { return (raw >> 5) & 3; }
  constexpr bool p() const { return (raw >> 7) & 1; }
  constexpr unsigned reserved() const { return raw & 0xFFFE0F00u; }  // 11:8, 31:17
  constexpr bool l() const { return (raw >> 13) & 1; }
  constexpr bool db() const { return (raw >> 14) & 1; }
  constexpr bool g() const { return (raw >> 15) & 1; }
  constexpr bool unusable() const { return (raw >> 16) & 1; }
};

// Facts read once from the image and shared by the rules.
struct Facts {
  const VmcsImage& v;
  const EntryCheckContext& ctx;
  const VmxCapabilities& caps;
  EntryCheckReport& out;
  uint32_t pin, proc, proc2, exit, entry;
  bool ug, ept, ia32e_guest, host_64;
  uint64_t guest_cr0, guest_rflags;
  InterruptionInfo event;

  Facts(const VmcsImage& image, const EntryCheckContext& c, EntryCheckReport& o)
      : v(image), ctx(c), caps(*c.caps), out(o) {
    pin = static_cast<uint32_t>(v.get(VmcsField::pin_based_controls));
    proc = static_cast<uint32_t>(v.get(VmcsField::proc_based_controls));
    // §27.2.1.1: with "activate secondary controls" 0, secondary controls are 0.
    proc2 = (proc & bit_of(ProcCtl::secondary_controls))
                ? static_cast<uint32_t>(v.get(VmcsField::secondary_proc_controls))
                : 0;
    exit = static_cast<uint32_t>(v.get(VmcsField::exit_controls));
    entry = static_cast<uint32_t>(v.get(VmcsField::entry_controls));
    ug = proc2 & bit_of(Proc2Ctl::unrestricted_guest);
    ept = proc2 & bit_of(Proc2Ctl::enable_ept);
    ia32e_guest = entry & bit_of(EntryCtl::ia32e_mode_guest);
    host_64 = exit & bit_of(ExitCtl::host_address_space_size);
    guest_cr0 = v.get(VmcsField::guest_cr0);
    guest_rflags = v.get(VmcsField::guest_rflags);
    event = {static_cast<uint32_t>(v.get(VmcsField::entry_interruption_info))};
  }
  uint64_t get(VmcsField f) const { return v.get(f); }
  void fail(RuleGroup g, const char* section, const char* rule, VmcsField f) {
    out.add(g, section, rule, f, v.get(f));
  }
};

}  // namespace mamori::vmx::detail
