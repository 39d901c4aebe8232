// The capability capture (vmx/capture.hpp): the block `vmx caps` printed in
// Bochs (tests/unit/vmx/data/*.capture, checked byte for byte by
// tests/system/bochs_smp_vmx.py) is read unchanged and equals the MSR table
// measured from Bochs itself; every MSR set round-trips; malformed blocks
// are refused with the line that is wrong.
#include <catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "consistency.hpp"
#include "fixtures.hpp"
#include "vmx/capture.hpp"
#include "vmx/field_support.hpp"
#include "vmx/format.hpp"
#include "vmx/invalidation.hpp"
#include "vmx/event_injection.hpp"
#include "vmx/readiness.hpp"
#include "vmx/msr.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Capture capture_of(const MsrSet& s) {
  Capture c;
  c.msrs = raw_from(s);
  c.present_mask = present_mask_of(c.msrs);
  c.cpuid[c.cpuid_count++] = {1, 0, 0, 0, s.cpuid1_ecx, 0};
  c.cpuid[c.cpuid_count++] = {0x80000008u, 0, s.maxphyaddr, 0, 0, 0};
  return c;
}

std::string text_of(const Capture& c) {
  std::string out;
  write_capture(c, [&](const char* line) { out += std::string(line) + "\n"; });
  return out;
}

void check_same_msrs(const RawVmxMsrs& a, const RawVmxMsrs& b) {
  for (uint32_t m = 0x480; m <= 0x491; ++m) {
    uint64_t va = 0, vb = 0;
    capture_detail::msr_value(a, m, va);
    capture_detail::msr_value(b, m, vb);
    INFO("MSR 0x" << std::hex << m);
    CHECK(va == vb);
  }
  CHECK(a.cpuid_vmx == b.cpuid_vmx);
}
}  // namespace

TEST_CASE("the capture `vmx caps` printed in Bochs is the measured Bochs table, and its set-up passes the entry checker") {
  std::string text = read_file(std::string(MAMORI_VMX_TEST_DATA) + "/bochs-corei7_skylake_x.capture");
  Capture c;
  unsigned bad = 0;
  REQUIRE(parse_capture(text.data(), text.size(), c, &bad) == CaptureError::None);
  check_same_msrs(c.msrs, raw_from(kBochsSkylakeX));
  CHECK(c.msrs.feature_control == 0x5);
  const CpuidLeaf* l1 = c.find_cpuid(1, 0);
  REQUIRE(l1);
  constexpr uint32_t kOsxsave = 1u << 27;  // follows CR4, which the VMM sets
  CHECK((l1->ecx & ~kOsxsave) == (kBochsSkylakeX.cpuid1_ecx & ~kOsxsave));
  const CpuidLeaf* ext = c.find_cpuid(0x80000008u, 0);
  REQUIRE(ext);
  CHECK((ext->eax & 0xFF) == kBochsSkylakeX.maxphyaddr);
  CHECK(c.cpuid_count == sizeof kCaptureLeaves / sizeof kCaptureLeaves[0]);

  // The whole set-up the VMM performs, from the capture alone.
  VmxCapabilities caps = decode(c.msrs);
  ComputedControls ctl = compute_controls(caps, mamori_control_request());
  CHECK(ctl.ok());
  Machine m{&kBochsSkylakeX, caps, ctl, {}};
  m.ctx.caps = &m.caps;
  m.ctx.maxphyaddr = ext->eax & 0xFF;
  VmcsImage img = good_image(m, GuestKind::flat_protected);
  EntryCheckReport rep;
  check_vm_entry(img, m.ctx, rep);
  CHECK(rep.ok());
}

TEST_CASE("every MSR set round-trips through the capture text") {
  for (const MsrSet* s : kAllSets) {
    INFO(s->name);
    Capture c = capture_of(*s);
    std::string text = text_of(c);
    Capture back;
    REQUIRE(parse_capture(text.data(), text.size(), back, nullptr) == CaptureError::None);
    check_same_msrs(back.msrs, c.msrs);
    CHECK(back.present_mask == c.present_mask);
    CHECK(text_of(back) == text);
  }
}

TEST_CASE("a capture pasted from a serial log, with its line prefixes, still parses") {
  Capture c = capture_of(kCoffeeLake);
  std::string text = text_of(c), log = "some boot noise\r\n";
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) log += "[  1.234] " + line + "\r\n";
  Capture back;
  REQUIRE(parse_capture(log.data(), log.size(), back, nullptr) == CaptureError::None);
  check_same_msrs(back.msrs, c.msrs);
}

TEST_CASE("malformed captures are refused with the line at fault") {
  auto parse = [](const std::string& t, unsigned* line) {
    Capture c;
    return parse_capture(t.data(), t.size(), c, line);
  };
  unsigned line = 0;
  CHECK(parse("", &line) == CaptureError::NoHeader);
  CHECK(parse("mamori-capture 2\nend\n", &line) == CaptureError::BadVersion);
  CHECK(parse("mamori-capture 1\nmsr 00000480 00d8\nend\n", &line) == CaptureError::BadLine);
  CHECK(line == 2);
  CHECK(parse("mamori-capture 1\nmsr 00000480 00d810000000002b\nmsr 00000492 0000000000000000\nend\n", &line) ==
        CaptureError::UnknownMsr);
  CHECK(line == 3);
  CHECK(parse("mamori-capture 1\ncpuid 00000001 00000000 0 0 0 0\nend\n", &line) == CaptureError::BadLine);
  CHECK(parse("mamori-capture 1\nbogus\nend\n", &line) == CaptureError::BadLine);
  CHECK(parse("mamori-capture 1\nmsr 00000480 00d810000000002b\n", &line) == CaptureError::NoEnd);
  std::string many = "mamori-capture 1\n";
  for (unsigned i = 0; i <= kCaptureMaxLeaves; ++i) many += "cpuid 00000001 00000000 00000000 00000000 00000000 00000000\n";
  CHECK(parse(many + "end\n", &line) == CaptureError::TooManyLeaves);
  CHECK(std::string(describe(CaptureError::UnknownMsr)).find("0x480") != std::string::npos);
}

// Every capture under data/ (a contributed `vmx caps` block is tested by
// adding its file): the VMM's whole guest set-up, as init_vmcs does it
// (vmm/vm/scheduler.cpp), through the control computation and the VM-entry
// checker. A CPU that passes readiness must get an accepted VMCS for the
// test guest (Multiboot entry) and a long-mode guest; one that fails must be
// refused with named reasons. "# expect: ready" / "# expect: refused TEXT"
// lines before the block pin the verdict for the fixtures we know.
TEST_CASE("every capture in data/: accepted by the entry checker, or refused by name") {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(MAMORI_VMX_TEST_DATA)) {
    if (entry.path().extension() != ".capture") continue;
    ++files;
    const std::string name = entry.path().filename().string();
    INFO(name);
    const std::string text = read_file(entry.path().string());
    Capture c;
    unsigned bad = 0;
    REQUIRE(parse_capture(text.data(), text.size(), c, &bad) == CaptureError::None);
    const CpuidLeaf* ext = c.find_cpuid(0x80000008u, 0);
    REQUIRE(ext);
    const VmxCapabilities caps = decode(c.msrs);
    const Readiness r = evaluate_readiness(caps);
    std::string findings;
    for (int i = 0; i < r.count; ++i) {
      char line[256];
      format_finding(r.findings[i], line, sizeof line);
      findings += std::string(line) + "\n";
    }
    INFO(findings);
    std::istringstream lines(text);
    bool expect_ready = false, expect_refused = false;
    for (std::string l; std::getline(lines, l) && l.rfind("mamori", 0) != 0;) {
      if (l == "# expect: ready") expect_ready = true;
      if (l.rfind("# expect: refused ", 0) == 0) {
        expect_refused = true;
        CHECK(r.mentions(l.substr(18).c_str()));
      }
    }
    if (expect_ready) CHECK(r.ready());
    if (expect_refused) CHECK_FALSE(r.ready());
    if (!r.ready()) {
      CHECK(r.count_of(Severity::required) > 0);
      for (int i = 0; i < r.count; ++i) CHECK(r.findings[i].text[0] != 0);
      continue;
    }
    const ComputedControls ctl = compute_controls(caps, mamori_control_request());
    REQUIRE(ctl.ok());
    InveptType t;
    CHECK(invept_type_for_one_guest(caps, &t));
    CHECK(preemption_timer_value(caps, 10'000'000) > 0);  // a 10 ms slice at 1 GHz
    // Controls plus the set-up images pass the entry checker, each guest
    // kind (the property of consistency.hpp, over this capture).
    CHECK(setup_consistency_failure(c.msrs, ext->eax & 0xFF) == "");
    Machine m{nullptr, caps, ctl, {}};
    m.ctx.caps = &m.caps;
    m.ctx.maxphyaddr = ext->eax & 0xFF;
    for (GuestKind k : {GuestKind::flat_protected, GuestKind::long_mode, GuestKind::real_mode}) {
      if (k == GuestKind::long_mode && !caps.can(EntryCtl::ia32e_mode_guest)) continue;
      INFO("guest kind " << static_cast<int>(k));
      CHECK(write_image(good_image(m, k), caps, [](VmcsField, uint64_t) { return true; }) >= 0);
    }
  }
  CHECK(files >= 6);
}

// Paths Bochs never takes, over the nested-KVM capture with one capability
// taken away each: the VMM either still gets an accepted VMCS or refuses by name.
TEST_CASE("nested-KVM capture without INVEPT single-context, VPID, TRUE MSRs or the preemption timer") {
  const std::string text = read_file(std::string(MAMORI_VMX_TEST_DATA) + "/kvm-6.1-nested-cascadelake-apicv.capture");
  Capture base;
  REQUIRE(parse_capture(text.data(), text.size(), base, nullptr) == CaptureError::None);
  auto accepted = [](const RawVmxMsrs& raw) {
    const VmxCapabilities caps = decode(raw);
    REQUIRE(evaluate_readiness(caps).ready());
    REQUIRE(compute_controls(caps, mamori_control_request()).ok());
    CHECK(setup_consistency_failure(raw, 46) == "");
    return caps;
  };
  SECTION("INVEPT single-context absent: all-context is used, noted") {
    RawVmxMsrs r = base.msrs;
    r.ept_vpid_cap &= ~(1ull << 25);
    const VmxCapabilities caps = accepted(r);
    InveptType t;
    REQUIRE(invept_type_for_one_guest(caps, &t));
    CHECK(t == InveptType::all_context);
    CHECK(evaluate_readiness(caps).mentions("EPT: only all-context INVEPT"));
  }
  SECTION("VPID absent: VPID off, warned, VMCS still accepted") {
    RawVmxMsrs r = base.msrs;
    r.procbased2 &= ~(1ull << (32 + 5));
    const VmxCapabilities caps = accepted(r);
    CHECK_FALSE(compute_controls(caps, mamori_control_request()).proc2() & bit_of(Proc2Ctl::enable_vpid));
    CHECK(evaluate_readiness(caps).mentions("VPID: not supported"));
  }
  SECTION("TRUE capability MSRs absent: legacy MSRs used, default1 CR3 exits stay 1") {
    RawVmxMsrs r = base.msrs;
    r.basic &= ~(1ull << 55);
    r.true_pinbased = r.true_procbased = r.true_exit = r.true_entry = 0;
    const VmxCapabilities caps = accepted(r);
    CHECK((compute_controls(caps, mamori_control_request()).proc() & bit_of(ProcCtl::cr3_load_exiting)) != 0);
    CHECK(evaluate_readiness(caps).mentions("controls: no TRUE capability MSRs"));
  }
  SECTION("VMX-preemption timer absent: refused by name (no LAPIC-timer fallback yet)") {
    RawVmxMsrs r = base.msrs;
    r.pinbased &= ~(1ull << (32 + 6));
    r.true_pinbased &= ~(1ull << (32 + 6));
    const Readiness rd = evaluate_readiness(decode(r));
    CHECK_FALSE(rd.ready());
    CHECK(rd.mentions("controls: VMX-preemption timer not available"));
    CHECK_FALSE(compute_controls(decode(r), mamori_control_request()).ok());
  }
}
