// Fuzz capability decoding, readiness and control computation with arbitrary
// MSR values; on realistic values (App. A guarantees), a CPU judged ready
// must get a VMCS that the VM-entry checker accepts.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cstdio>

#include "consistency.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t v[20] = {};
  memcpy(v, data, size < sizeof v ? size : sizeof v);
  // The input flips bits of a real MSR set (all-zero input = the real CPU),
  // so that both ready and refused CPUs are explored.
  RawVmxMsrs raw = raw_from(*kAllSets[(v[19] >> 1) % kSetCount]);
  raw.cpuid_vmx ^= v[19] & 1;
  raw.feature_control ^= v[0];
  uint64_t* words[] = {&raw.basic, &raw.pinbased, &raw.procbased, &raw.exit, &raw.entry,
                       &raw.misc, &raw.cr0_fixed0, &raw.cr0_fixed1, &raw.cr4_fixed0,
                       &raw.cr4_fixed1, &raw.vmcs_enum, &raw.procbased2, &raw.ept_vpid_cap,
                       &raw.true_pinbased, &raw.true_procbased, &raw.true_exit,
                       &raw.true_entry, &raw.vmfunc};
  for (int i = 0; i < 18; ++i) *words[i] ^= v[1 + i];

  // Anything goes: decode, judge and compute must not crash, and the
  // computed words must respect consistent capability words.
  const VmxCapabilities caps = decode(raw);
  const Readiness r = evaluate_readiness(caps);
  char line[256];
  for (int i = 0; i < r.count; ++i)
    if (format_finding(r.findings[i], line, sizeof line) >= sizeof line) abort();
  format_capabilities(caps, line, sizeof line);
  const ComputedControls ctl = compute_controls(caps, mamori_control_request());
  for (int k = 0; k < kControlKinds; ++k) {
    const ControlCapability& c = caps.controls[k];
    if ((c.must_be_one & ~c.may_be_one) == 0 && ctl.value[k] != 0 && !c.accepts(ctl.value[k])) abort();
  }
  (void)evaluate_feature_control(raw.cpuid_vmx, raw.feature_control);

  make_realistic(raw);
  const std::string failure = setup_consistency_failure(raw, 36 + (v[19] >> 8) % 17);
  if (!failure.empty()) {
    fprintf(stderr, "%s", failure.c_str());
    abort();
  }
  return 0;
}
