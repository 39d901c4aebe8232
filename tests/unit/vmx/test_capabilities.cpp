// Capability record decoding (App. A) and readiness, on real MSR values.
#include <catch.hpp>
#include <string>

#include "fixtures.hpp"
#include "vmx/msr.hpp"
#include "vmx/format.hpp"
#include "vmx/readiness.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

TEST_CASE("Bochs corei7_skylake_x decodes (App. A.1-A.11)") {
  const RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  const VmxCapabilities c = decode(raw);
  CHECK(c.cpuid_vmx);
  CHECK(c.revision_id == 0x2B);
  CHECK(c.vmcs_size == 4096);
  CHECK(c.vmcs_memory_type == MemoryType::wb);
  CHECK(c.true_controls);
  CHECK(c.ins_outs_info);
  CHECK_FALSE(c.dual_monitor);
  CHECK_FALSE(c.entry_exception_no_error_code);
  // EPT: 4-level, WB and UC, 2M and 1G pages, A/D, INVEPT single+all.
  CHECK(c.ept_enabled_possible());
  CHECK(c.ept.walk_length_4);
  CHECK_FALSE(c.ept.walk_length_5);
  CHECK(c.ept.memory_type_wb);
  CHECK(c.ept.memory_type_uc);
  CHECK(c.ept.pages_2m);
  CHECK(c.ept.pages_1g);
  CHECK(c.ept.accessed_dirty);
  CHECK(c.ept.invept);
  CHECK(c.ept.invept_single_context);
  CHECK(c.ept.invept_all_context);
  CHECK(c.ept.execute_only);
  CHECK(c.ept.invvpid);
  CHECK(c.ept.invvpid_individual_address);
  CHECK(c.ept.invvpid_single_context);
  CHECK(c.ept.invvpid_all_context);
  CHECK(c.ept.invvpid_single_context_retaining_globals);
  CHECK(c.unrestricted_guest());
  CHECK(c.vpid());
  CHECK(c.preemption_timer());
  CHECK(c.misc.preemption_timer_shift == 0);  // Bochs: timer ticks with the TSC
  CHECK(c.msr_bitmaps());
  CHECK(c.io_bitmaps());
  CHECK(c.secondary_controls());
  CHECK(c.misc.activity_hlt);
  CHECK(c.misc.activity_shutdown);
  CHECK(c.misc.activity_wait_for_sipi);
  CHECK(c.misc.store_efer_lma);
  CHECK(c.misc.cr3_target_count == 4);
  CHECK(c.misc.max_msr_list == 512);
  CHECK(c.misc.vmwrite_any_field);
  CHECK(c.misc.inject_zero_length);
  CHECK(c.vmfunc == 1);  // EPTP switching
  CHECK(c.vmcs_highest_index == 0x1A);
  CHECK(c.cr0_fixed0 == 0x80000021);
  CHECK(c.cr4_fixed1 == 0x3727FF);
  // TRUE MSRs in effect: CR3-load/store exiting may be 0; legacy says 1.
  CHECK(c.control(ControlKind::proc).can_clear(bit_of(ProcCtl::cr3_load_exiting)));
  CHECK_FALSE(c.legacy_controls[static_cast<int>(ControlKind::proc)].can_clear(
      bit_of(ProcCtl::cr3_load_exiting)));
  // Secondary allowed-1 = 0x02177FFF: no PT-uses-GPA (24), TSC scaling (25) yes.
  CHECK(c.can(Proc2Ctl::tsc_scaling));
  CHECK_FALSE(c.can(Proc2Ctl::pt_guest_physical));
}

TEST_CASE("Bochs corei7_ivy_bridge_3770k lacks 1 GiB EPT pages, A/D and VMFUNC") {
  const RawVmxMsrs raw = raw_from(kBochsIvyBridge);
  CHECK_FALSE(msr_present(raw, msr::ia32_vmx_vmfunc));  // RDMSR would #GP
  const VmxCapabilities c = decode(raw);
  CHECK(c.ept.walk_length_4);
  CHECK(c.ept.pages_2m);
  CHECK_FALSE(c.ept.pages_1g);
  CHECK_FALSE(c.ept.accessed_dirty);
  CHECK(c.unrestricted_guest());
  CHECK(c.vpid());
  CHECK_FALSE(c.can(Proc2Ctl::enable_vmfunc));
  CHECK_FALSE(c.can(Proc2Ctl::enable_invpcid));
  CHECK_FALSE(c.can(Proc2Ctl::enable_xsaves));
  CHECK(c.vmfunc == 0);
  CHECK_FALSE(c.misc.vmwrite_any_field);
  CHECK(c.cr4_fixed1 == 0x1727FF);
}

TEST_CASE("real Coffee Lake decodes") {
  const VmxCapabilities c = decode(raw_from(kCoffeeLake));
  CHECK(c.revision_id == 4);
  CHECK(c.vmcs_size == 1024);
  CHECK(c.vmcs_memory_type == MemoryType::wb);
  CHECK(c.dual_monitor);
  CHECK(c.true_controls);
  CHECK(c.misc.preemption_timer_shift == 7);  // one tick per 128 TSC cycles
  CHECK(c.misc.pt_in_vmx);
  CHECK(c.ept.pages_1g);
  CHECK(c.ept.accessed_dirty);
  CHECK(c.ept.advanced_exit_info);
  CHECK(c.unrestricted_guest());
  CHECK(c.vpid());
  CHECK_FALSE(c.can(Proc2Ctl::apic_register_virtualization));  // client part: no APICv
  CHECK_FALSE(c.can(Proc2Ctl::vmcs_shadowing));
  CHECK(c.can(Proc2Ctl::enable_pml));
  CHECK(c.can(EntryCtl::load_bndcfgs));
  CHECK_FALSE(c.can(EntryCtl::load_rtit_ctl));
  CHECK(c.vmcs_highest_index == 0x17);
}

TEST_CASE("real Ivy Bridge decodes like Bochs's model, plus the real CPU's details") {
  const RawVmxMsrs raw = raw_from(kRealIvyBridge);
  CHECK_FALSE(msr_present(raw, msr::ia32_vmx_vmfunc));
  const VmxCapabilities c = decode(raw);
  CHECK(c.revision_id == 0x10);
  CHECK(c.vmcs_size == 1024);
  CHECK(c.misc.preemption_timer_shift == 5);
  CHECK_FALSE(c.misc.inject_zero_length);
  CHECK_FALSE(c.ept.pages_1g);
  CHECK_FALSE(c.ept.accessed_dirty);
  const Readiness r = evaluate_readiness(c);
  CHECK(r.ready());
  CHECK(r.mentions("EPT: 1 GiB pages not supported (guests use 2 MiB pages)"));
  CHECK(r.count_of(Severity::warning) == 2);
}

TEST_CASE("absent MSRs are not read (App. A.1, A.3.3, A.10, A.11)") {
  RawVmxMsrs r;
  CHECK_FALSE(msr_present(r, msr::ia32_vmx_basic));  // no VMX at all
  CHECK(msr_present(r, msr::ia32_feature_control));
  r.cpuid_vmx = true;
  CHECK(msr_present(r, msr::ia32_vmx_basic));
  CHECK(msr_present(r, msr::ia32_vmx_vmcs_enum));
  CHECK_FALSE(msr_present(r, msr::ia32_vmx_procbased_ctls2));  // primary bit 63 = 0
  CHECK_FALSE(msr_present(r, msr::ia32_vmx_true_pinbased_ctls));
  r.basic = 1ull << 55;
  CHECK(msr_present(r, msr::ia32_vmx_true_entry_ctls));
  r.procbased = 1ull << 63;
  CHECK(msr_present(r, msr::ia32_vmx_procbased_ctls2));
  CHECK_FALSE(msr_present(r, msr::ia32_vmx_ept_vpid_cap));
  r.procbased2 = 1ull << (32 + 5);  // VPID only
  CHECK(msr_present(r, msr::ia32_vmx_ept_vpid_cap));
  CHECK_FALSE(msr_present(r, 0x492));
  CHECK_FALSE(r.set(0x492, 1));
}

TEST_CASE("secondary controls are all 0 without 'activate secondary controls' (A.3.3)") {
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.procbased &= ~(1ull << 63);
  raw.true_procbased &= ~(1ull << 63);
  const VmxCapabilities c = decode(raw);
  CHECK_FALSE(c.secondary_controls());
  CHECK_FALSE(c.can(Proc2Ctl::enable_ept));
  CHECK_FALSE(c.unrestricted_guest());
  const Readiness r = evaluate_readiness(c);
  CHECK_FALSE(r.ready());
  CHECK(r.mentions("controls: secondary processor-based controls not available"));
  CHECK(r.mentions("EPT: not supported"));
  CHECK(r.mentions("controls: unrestricted guest not supported"));
}

TEST_CASE("readiness: the Bochs Skylake-X and Coffee Lake are ready with nothing missing") {
  for (const MsrSet* s : {&kBochsSkylakeX, &kCoffeeLake}) {
    INFO(s->name);
    const Readiness r = evaluate_readiness(decode(raw_from(*s)));
    CHECK(r.ready());
    CHECK(r.count_of(Severity::warning) == 0);
    for (int i = 0; i < r.count; ++i) INFO(r.findings[i].text);
  }
}

TEST_CASE("readiness: Ivy Bridge is ready, with the missing 1 GiB pages as a warning") {
  const Readiness r = evaluate_readiness(decode(raw_from(kBochsIvyBridge)));
  CHECK(r.ready());
  CHECK(r.mentions("EPT: 1 GiB pages not supported (guests use 2 MiB pages)"));
  CHECK(r.mentions("EPT: accessed/dirty flags not supported"));
  CHECK(r.count_of(Severity::warning) == 2);
  CHECK(r.count_of(Severity::required) == 0);
}

TEST_CASE("readiness: each hard requirement is named when missing") {
  struct Case {
    const char* what;
    void (*mutate)(RawVmxMsrs&);
    const char* expect;
  };
  const Case cases[] = {
      {"no VMX", [](RawVmxMsrs& r) { r.cpuid_vmx = false; }, "CPU: no VMX"},
      {"no unrestricted guest",
       [](RawVmxMsrs& r) { r.procbased2 &= ~(1ull << (32 + 7)); },
       "controls: unrestricted guest not supported"},
      {"no EPT 4-level walk", [](RawVmxMsrs& r) { r.ept_vpid_cap &= ~(1ull << 6); },
       "EPT: 4-level page walk not supported"},
      {"no EPT WB", [](RawVmxMsrs& r) { r.ept_vpid_cap &= ~(1ull << 14); },
       "EPT: write-back memory type not supported"},
      {"no INVEPT types",
       [](RawVmxMsrs& r) { r.ept_vpid_cap &= ~((1ull << 25) | (1ull << 26)); },
       "EPT: INVEPT (single- or all-context) not supported"},
      {"no preemption timer",
       [](RawVmxMsrs& r) {
         r.pinbased &= ~(1ull << (32 + 6));
         r.true_pinbased &= ~(1ull << (32 + 6));
       },
       "controls: VMX-preemption timer not available"},
      {"no MSR bitmaps",
       [](RawVmxMsrs& r) { r.true_procbased &= ~(1ull << (32 + 28)); },
       "controls: MSR bitmaps not available"},
      {"no I/O bitmaps",
       [](RawVmxMsrs& r) { r.true_procbased &= ~(1ull << (32 + 25)); },
       "controls: I/O bitmaps not available"},
      {"VMCS uncached", [](RawVmxMsrs& r) { r.basic &= ~(0xFull << 50); },
       "VMCS: memory type is not write-back"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    RawVmxMsrs raw = raw_from(kBochsSkylakeX);
    c.mutate(raw);
    const Readiness r = evaluate_readiness(decode(raw));
    CHECK_FALSE(r.ready());
    CHECK(r.mentions(c.expect));
  }
}

TEST_CASE("readiness: VPID and TRUE controls are optional") {
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.procbased2 &= ~(1ull << (32 + 5));
  raw.basic &= ~(1ull << 55);
  const Readiness r = evaluate_readiness(decode(raw));
  CHECK(r.ready());
  CHECK(r.mentions("VPID: not supported"));
  CHECK(r.mentions("controls: no TRUE capability MSRs"));
}

TEST_CASE("IA32_FEATURE_CONTROL evaluation (§24.7)") {
  using A = FeatureControlVerdict::Action;
  CHECK(evaluate_feature_control(true, 0x5).action == A::ready);
  CHECK(evaluate_feature_control(true, 0x20005).action == A::ready);  // Coffee Lake (SGX LE)
  const auto unlocked = evaluate_feature_control(true, 0x0);
  CHECK(unlocked.action == A::lock_and_enable);
  CHECK(unlocked.value_to_write == 0x5);
  // Other firmware-set bits survive (SGX launch control, bit 17).
  CHECK(evaluate_feature_control(true, 0x20000).value_to_write == 0x20005);
  const auto off = evaluate_feature_control(true, 0x1);
  CHECK(off.action == A::locked_off);
  CHECK(std::string(off.message).find("enable VT-x in the firmware") != std::string::npos);
  // Only VMX inside SMX: still off for a normal VMXON.
  CHECK(evaluate_feature_control(true, 0x3).action == A::locked_off);
  CHECK(evaluate_feature_control(false, 0x5).action == A::no_vmx);
}

TEST_CASE("readiness: any other missing required control is named by the control") {
  const VmxCapabilities c = decode(raw_from(kCoffeeLake));
  ControlRequest req = mamori_control_request();
  req.require(PinCtl::posted_interrupts);  // not on this client CPU
  const Readiness r = evaluate_readiness(c, req);
  CHECK_FALSE(r.ready());
  REQUIRE(r.count_of(Severity::required) == 1);
  const Finding& f = r.findings[0];
  CHECK(f.has_control);
  CHECK(f.control.kind == ControlKind::pin);
  CHECK(f.control.bit == 7);
  char line[160];
  format_finding(f, line, sizeof line);
  CHECK(std::string(line) ==
        "missing: controls: required control not available: pin-based control 'posted_interrupts'");
  // With mamori's own request the same CPU is ready.
  CHECK(evaluate_readiness(c).ready());
}

TEST_CASE("readiness: no acknowledge-interrupt-on-exit or no IA-32e guests") {
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.true_exit &= ~(1ull << (32 + 15));
  Readiness r = evaluate_readiness(decode(raw));
  CHECK_FALSE(r.ready());
  CHECK(r.mentions("controls: acknowledge interrupt on exit not available"));
  raw = raw_from(kBochsSkylakeX);
  raw.true_entry &= ~(1ull << (32 + 9));
  r = evaluate_readiness(decode(raw));
  CHECK(r.ready());
  CHECK(r.mentions("controls: IA-32e mode guest not available"));
}
