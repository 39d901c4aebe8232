// Property shared by a unit test (random) and a fuzz target: on any
// *realistic* set of capability MSRs that evaluate_readiness() accepts, the
// controls from compute_controls() plus the images from vmcs_setup pass the
// VM-entry checker. "Realistic" = what App. A guarantees of real CPUs:
// must-be-1 bits only in the default1 classes (A.2), TRUE MSRs relax only
// default1 bits and report the same allowed-1 bits (A.3.1), secondary
// allowed-0 all zero (A.3.3).
#pragma once
#include <string>

#include "fixtures.hpp"
#include "vmx/format.hpp"
#include "vmx/readiness.hpp"

namespace mamori::vmx::testdata {

inline void make_realistic(RawVmxMsrs& r) {
  r.cpuid_vmx = true;
  auto fix = [](uint64_t& legacy, uint64_t& tru, uint32_t d1) {
    uint32_t must = static_cast<uint32_t>(legacy) & d1;
    uint32_t may = static_cast<uint32_t>(legacy >> 32) | must;
    legacy = (uint64_t{may} << 32) | must;
    const uint32_t must_true = static_cast<uint32_t>(tru) & must;
    tru = (uint64_t{may} << 32) | must_true;
  };
  fix(r.pinbased, r.true_pinbased, kPinDefault1);
  fix(r.procbased, r.true_procbased, kProcDefault1);
  fix(r.exit, r.true_exit, kExitDefault1);
  fix(r.entry, r.true_entry, kEntryDefault1);
  r.procbased2 &= ~0xFFFFFFFFull;
  // Fixed CR bits of a real CPU (the fixture's host state is fixed too).
  r.cr0_fixed0 = 0x80000021;
  r.cr0_fixed1 = 0xFFFFFFFF;
  r.cr4_fixed0 = 0x2000;
  r.cr4_fixed1 = 0x3727FF;
}

// Empty if the property holds (or the CPU is refused), else a description.
inline std::string setup_consistency_failure(const RawVmxMsrs& raw, unsigned maxphyaddr) {
  const VmxCapabilities caps = decode(raw);
  if (!evaluate_readiness(caps).ready()) return {};
  const ComputedControls ctl = compute_controls(caps, mamori_control_request());
  if (!ctl.ok()) return "readiness passed but required controls are missing";
  Machine m{nullptr, caps, ctl, {}};
  m.ctx.caps = &m.caps;
  m.ctx.maxphyaddr = maxphyaddr;
  std::string out;
  for (GuestKind k : {GuestKind::long_mode, GuestKind::real_mode, GuestKind::flat_protected}) {
    if (k == GuestKind::long_mode && !caps.can(EntryCtl::ia32e_mode_guest)) continue;
    EntryCheckReport r;
    check_vm_entry(good_image(m, k), m.ctx, r);
    for (int i = 0; i < r.count; ++i) {
      char line[256];
      format_violation(r.violations[i], line, sizeof line);
      out += "guest kind " + std::to_string(static_cast<int>(k)) + ": " + line + "\n";
    }
  }
  return out;
}

}  // namespace mamori::vmx::testdata
