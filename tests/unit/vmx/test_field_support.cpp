// Which VMCS fields exist (§25.4-25.9), cross-checked against the real
// CPUs' IA32_VMX_VMCS_ENUM; writing and reading whole images.
#include <catch.hpp>
#include <map>

#include "fixtures.hpp"
#include "vmx/field_support.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;
using F = VmcsField;

TEST_CASE("fields present by feature vs the CPUs' VMCS_ENUM (App. A.9): only a known under-report") {
  for (const MsrSet* s : kAllSets) {
    INFO(s->name);
    const VmxCapabilities c = decode(raw_from(*s));
    size_t n = 0;
    const VmcsField* fields = all_fields(&n);
    int present = 0;
    for (size_t i = 0; i < n; ++i) {
      INFO(field_name(fields[i]));
      if (!field_supported(fields[i], c)) continue;
      ++present;
      if (field_within_vmcs_enum(fields[i], c.vmcs_highest_index)) continue;
      // The real Ivy Bridge reports highest index 21 (0x2A) but has the
      // preemption-timer field (index 23): VMCS_ENUM cannot be trusted to
      // rule fields out.
      CHECK(s == &kRealIvyBridge);
      CHECK(fields[i] == F::guest_preemption_timer);
    }
    CHECK(present > 120);
  }
}

TEST_CASE("feature-dependent fields on the three CPUs") {
  const VmxCapabilities sky = decode(raw_from(kBochsSkylakeX));
  const VmxCapabilities ivy = decode(raw_from(kBochsIvyBridge));
  const VmxCapabilities cof = decode(raw_from(kCoffeeLake));
  CHECK(field_supported(F::vm_function_controls, sky));
  CHECK(field_supported(F::eptp_list_addr, sky));
  CHECK_FALSE(field_supported(F::vm_function_controls, ivy));
  CHECK_FALSE(field_supported(F::pml_address, ivy));
  CHECK(field_supported(F::pml_address, cof));
  CHECK_FALSE(field_supported(F::tsc_multiplier, cof));
  CHECK_FALSE(field_supported(F::tertiary_proc_controls, sky));
  CHECK_FALSE(field_supported(F::posted_int_desc_addr, cof));
  CHECK(field_supported(F::executive_vmcs_ptr, cof));   // dual-monitor SMM treatment
  CHECK_FALSE(field_supported(F::executive_vmcs_ptr, sky));
  for (const VmxCapabilities* c : {&sky, &ivy, &cof}) {
    CHECK(field_supported(F::guest_rip, *c));
    CHECK(field_supported(F::vpid, *c));
    CHECK(field_supported(F::ept_pointer, *c));
    CHECK(field_supported(F::guest_preemption_timer, *c));
  }
  CHECK_FALSE(field_supported(F::guest_rip, VmxCapabilities{}));
}

TEST_CASE("write_image writes every present field and skips absent ones") {
  for (const MsrSet* s : kAllSets) {
    INFO(s->name);
    const Machine m = machine(*s);
    const VmcsImage img = good_image(m, GuestKind::long_mode);
    std::map<uint32_t, uint64_t> vmcs;
    const int skipped = write_image(img, m.caps, [&](VmcsField f, uint64_t v) {
      vmcs[encoding(f)] = v;
      return true;
    });
    CHECK(skipped == 0);
    CHECK(static_cast<int>(vmcs.size()) == img.size());
    CHECK(vmcs[encoding(F::guest_cs_access_rights)] == 0xA09B);

    // Read it back the way the VMM does after a failed entry.
    VmcsImage back;
    read_image(back, m.caps, [&](VmcsField f, uint64_t* v) {
      auto it = vmcs.find(encoding(f));
      *v = it == vmcs.end() ? 0 : it->second;
      return true;
    });
    EntryCheckReport r;
    check_vm_entry(back, m.ctx, r);
    CHECK(r.ok());
  }
  // A CPU without VPID: the vpid field is skipped.
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.procbased2 &= ~(1ull << (32 + 5));
  const Machine m = [&] {
    Machine x{&kBochsSkylakeX, decode(raw), {}, {}};
    x.ctl = compute_controls(x.caps, mamori_control_request());
    x.ctx.caps = &x.caps;
    return x;
  }();
  const VmcsImage img = good_image(m, GuestKind::flat_protected);
  CHECK(write_image(img, m.caps, [](VmcsField, uint64_t) { return true; }) == 1);
  // A failing VMWRITE stops the walk.
  int calls = 0;
  CHECK(write_image(img, m.caps, [&](VmcsField, uint64_t) { return ++calls < 3; }) == -1);
  CHECK(calls == 3);
}
