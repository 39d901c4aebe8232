// Fuzz the VM-entry checker with a known-good image overwritten by arbitrary
// (field, value) pairs: it must never crash, every violation must carry a
// section and a sentence, and an untouched image must pass.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.hpp"
#include "vmx/format.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const Machine machines[] = {machine(kBochsSkylakeX), machine(kBochsIvyBridge),
                                     machine(kCoffeeLake), machine(kRealIvyBridge)};
  const Machine& m = machines[data[0] % kSetCount];
  const GuestKind kind = static_cast<GuestKind>((data[0] / kSetCount) % 3);
  VmcsImage v = good_image(m, kind);
  size_t nfields = 0;
  const VmcsField* fields = all_fields(&nfields);
  size_t changed = 0;
  for (size_t off = 1; off + 9 <= size; off += 9) {
    uint64_t value;
    memcpy(&value, data + off + 1, 8);
    v.set(fields[data[off] % nfields], value);
    ++changed;
  }
  EntryCheckReport r;
  check_vm_entry(v, m.ctx, r);
  if (changed == 0 && !r.ok()) abort();
  if (r.count > EntryCheckReport::kMax) abort();
  char line[512];
  for (int i = 0; i < r.count; ++i) {
    const Violation& x = r.violations[i];
    if (!x.section || !x.rule || !*x.rule || static_cast<int>(x.group) >= kRuleGroups) abort();
    format_violation(x, line, sizeof line);
    if (strlen(line) >= sizeof line) abort();
  }
  return 0;
}
