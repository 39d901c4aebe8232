// Control computation (App. A.2-A.5) on the real MSR sets and on random
// capability words.
#include <catch.hpp>
#include <cstring>
#include <random>

#include "fixtures.hpp"
#include "vmx/readiness.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

namespace {
bool listed(const ControlBit* list, int n, ControlKind k, unsigned bit) {
  for (int i = 0; i < n; ++i)
    if (list[i].kind == k && list[i].bit == bit) return true;
  return false;
}
}  // namespace

// Expected words worked out by hand from the MSR tables:
// value = must_be_one | (wanted & may_be_one) | (default1 & may_be_one & ~avoid).
TEST_CASE("mamori's controls on Bochs corei7_skylake_x (TRUE MSRs)") {
  const Machine m = machine(kBochsSkylakeX);
  REQUIRE(m.ctl.ok());
  CHECK(m.ctl.pin() == 0x0000007F);
  // TRUE procbased must-be-1 0x04006172 | HLT, MWAIT, RDPMC (11), I/O bitmaps, MSR
  // bitmaps, MONITOR, secondary, CR8-load/store exiting (19, 20); CR3-load/store
  // exiting (15, 16) off.
  CHECK(m.ctl.proc() == 0xB6186DF2);
  CHECK_FALSE(m.ctl.proc() & bit_of(ProcCtl::cr3_load_exiting));
  CHECK_FALSE(m.ctl.proc() & bit_of(ProcCtl::cr3_store_exiting));
  // EPT, RDTSCP, VPID, WBINVD exiting (6), unrestricted guest, INVPCID, XSAVES.
  CHECK(m.ctl.proc2() == 0x001010EA);
  CHECK(m.ctl.exit() == 0x007FEFFF);
  CHECK(m.ctl.entry() == 0x0000D1FF);
  CHECK(m.ctl.unavailable_count == 0);
  CHECK(m.ctl.forced_count == 0);
}

TEST_CASE("mamori's controls on Bochs corei7_ivy_bridge_3770k") {
  const Machine m = machine(kBochsIvyBridge);
  REQUIRE(m.ctl.ok());
  CHECK(m.ctl.pin() == 0x0000007F);
  CHECK(m.ctl.proc() == 0xB6186DF2);
  CHECK(m.ctl.proc2() == 0x000000EA);  // no INVPCID, no XSAVES on this model
  CHECK(listed(m.ctl.unavailable, m.ctl.unavailable_count, ControlKind::proc2, 12));
  CHECK(listed(m.ctl.unavailable, m.ctl.unavailable_count, ControlKind::proc2, 20));
  CHECK(m.ctl.unavailable_count == 2);
  CHECK(m.ctl.exit() == 0x007FEFFF);
  CHECK(m.ctl.entry() == 0x0000D1FF);
}

TEST_CASE("mamori's controls on a real Coffee Lake") {
  const Machine m = machine(kCoffeeLake);
  REQUIRE(m.ctl.ok());
  CHECK(m.ctl.pin() == 0x0000007F);
  CHECK(m.ctl.proc() == 0xB6186DF2);
  CHECK(m.ctl.proc2() == 0x001010EA);
  CHECK(m.ctl.exit() == 0x007FEFFF);
  CHECK(m.ctl.entry() == 0x0000D1FF);
}

TEST_CASE("mamori's controls on a real Ivy Bridge equal Bochs's Ivy Bridge model") {
  const Machine real = machine(kRealIvyBridge);
  const Machine bochs = machine(kBochsIvyBridge);
  REQUIRE(real.ctl.ok());
  CHECK(real.ctl.pin() == 0x0000007F);
  CHECK(real.ctl.proc() == 0xB6186DF2);
  CHECK(real.ctl.proc2() == 0x000000EA);
  CHECK(real.ctl.exit() == 0x007FEFFF);
  CHECK(real.ctl.entry() == 0x0000D1FF);
  for (int k = 0; k < kControlKinds; ++k) CHECK(real.ctl.value[k] == bochs.ctl.value[k]);
}

TEST_CASE("without TRUE MSRs the default1 CR3 exiting bits stay 1 and are reported (A.2)") {
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.basic &= ~(1ull << 55);
  const VmxCapabilities caps = decode(raw);
  const ComputedControls c = compute_controls(caps, mamori_control_request());
  REQUIRE(c.ok());
  CHECK(c.proc() == 0xB619EDF2);
  CHECK(c.forced_count == 2);
  CHECK(listed(c.forced, c.forced_count, ControlKind::proc, 15));
  CHECK(listed(c.forced, c.forced_count, ControlKind::proc, 16));
  // Save debug controls (exit bit 2) is default1 and must stay 1 here.
  CHECK(c.exit() & bit_of(ExitCtl::save_debug_controls));
}

TEST_CASE("every computed word obeys its capability MSR") {
  for (const MsrSet* s : kAllSets) {
    INFO(s->name);
    const Machine m = machine(*s);
    for (int k = 0; k < kControlKinds; ++k) {
      INFO(control_kind_name(static_cast<ControlKind>(k)));
      CHECK(m.caps.controls[k].accepts(m.ctl.value[k]));
      // Also valid against the legacy MSR where the bits are not default1:
      // the TRUE MSR only relaxes default1 bits (A.3.1).
      const uint32_t d1 = default1_mask(static_cast<ControlKind>(k));
      const ControlCapability& l = m.caps.legacy_controls[k];
      CHECK((m.ctl.value[k] & ~l.may_be_one) == 0);
      CHECK(((m.ctl.value[k] | d1) & l.must_be_one) == l.must_be_one);
    }
  }
}

TEST_CASE("missing required controls are refused by name") {
  RawVmxMsrs raw = raw_from(kBochsIvyBridge);
  raw.procbased2 &= ~(1ull << (32 + 7));  // no unrestricted guest
  const ComputedControls c = compute_controls(decode(raw), mamori_control_request());
  CHECK_FALSE(c.ok());
  REQUIRE(c.missing_count == 1);
  CHECK(c.missing[0].kind == ControlKind::proc2);
  CHECK(std::strcmp(control_bit_name(c.missing[0].kind, c.missing[0].bit), "unrestricted_guest") == 0);
  CHECK(std::strcmp(control_kind_name(c.missing[0].kind), "secondary processor-based") == 0);
  CHECK(c.is_missing(ControlKind::proc2, bit_of(Proc2Ctl::unrestricted_guest)));
}

TEST_CASE("no secondary controls: proc bit 31, EPT and unrestricted guest all missing; word 0") {
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.procbased &= ~(1ull << 63);
  raw.true_procbased &= ~(1ull << 63);
  const ComputedControls c = compute_controls(decode(raw), mamori_control_request());
  CHECK_FALSE(c.ok());
  CHECK(c.is_missing(ControlKind::proc, bit_of(ProcCtl::secondary_controls)));
  CHECK(c.is_missing(ControlKind::proc2, bit_of(Proc2Ctl::enable_ept)));
  CHECK(c.is_missing(ControlKind::proc2, bit_of(Proc2Ctl::unrestricted_guest)));
  CHECK(c.proc2() == 0);
  CHECK_FALSE(c.proc() & bit_of(ProcCtl::secondary_controls));
}

TEST_CASE("asking only for secondary controls implies 'activate secondary controls'") {
  const VmxCapabilities caps = decode(raw_from(kBochsSkylakeX));
  ControlRequest r;
  r.require(Proc2Ctl::enable_ept);
  const ComputedControls c = compute_controls(caps, r);
  REQUIRE(c.ok());
  CHECK(c.proc() & bit_of(ProcCtl::secondary_controls));
  CHECK(c.proc2() == bit_of(Proc2Ctl::enable_ept));
}

TEST_CASE("control bit names") {
  CHECK(std::strcmp(control_bit_name(ControlKind::pin, 6), "preemption_timer") == 0);
  CHECK(std::strcmp(control_bit_name(ControlKind::proc, 31), "secondary_controls") == 0);
  CHECK(std::strcmp(control_bit_name(ControlKind::exit, 9), "host_address_space_size") == 0);
  CHECK(std::strcmp(control_bit_name(ControlKind::entry, 9), "ia32e_mode_guest") == 0);
  CHECK(std::strcmp(control_bit_name(ControlKind::proc, 1), "reserved") == 0);  // default1
}

TEST_CASE("random capability words: the computed value always obeys the masks") {
  std::mt19937_64 rng(20261126);
  for (int iter = 0; iter < 5000; ++iter) {
    VmxCapabilities caps;
    caps.cpuid_vmx = true;
    for (int k = 0; k < kControlKinds; ++k) {
      const uint32_t may = static_cast<uint32_t>(rng());
      const uint32_t must = static_cast<uint32_t>(rng()) & static_cast<uint32_t>(rng()) & may;
      caps.controls[k] = {must, may};
    }
    ControlRequest req;
    for (int k = 0; k < kControlKinds; ++k) {
      req.required[k] = static_cast<uint32_t>(rng()) & static_cast<uint32_t>(rng());
      req.optional[k] = static_cast<uint32_t>(rng()) & static_cast<uint32_t>(rng());
      req.avoid[k] = static_cast<uint32_t>(rng()) & static_cast<uint32_t>(rng()) & ~req.required[k];
    }
    const ComputedControls c = compute_controls(caps, req);
    const bool secondary_on = c.proc() & bit_of(ProcCtl::secondary_controls);
    bool expect_ok = true;
    for (int k = 0; k < kControlKinds; ++k) {
      const ControlCapability& cap = caps.controls[k];
      uint32_t required = req.required[k];
      if (k == static_cast<int>(ControlKind::proc) && req.required[2])
        required |= bit_of(ProcCtl::secondary_controls);
      if (required & ~cap.may_be_one) expect_ok = false;
      if (k == static_cast<int>(ControlKind::proc2) && !secondary_on) {
        REQUIRE(c.value[k] == 0);
        continue;
      }
      REQUIRE(cap.accepts(c.value[k]));
      // Everything wanted and possible is set.
      REQUIRE((c.value[k] & ((req.required[k] | req.optional[k]) & cap.may_be_one)) ==
              ((req.required[k] | req.optional[k]) & cap.may_be_one));
      // An avoided bit is set only if forced (or, for "activate secondary
      // controls", implied by asking for a secondary control).
      uint32_t implied = 0;
      if (k == static_cast<int>(ControlKind::proc) && (req.required[2] | req.optional[2]))
        implied = bit_of(ProcCtl::secondary_controls);
      REQUIRE((c.value[k] & req.avoid[k] & ~req.optional[k] & ~cap.must_be_one & ~implied) == 0);
    }
    REQUIRE(c.ok() == (expect_ok || c.missing_count > ComputedControls::kMaxList));
  }
}

// Finding 8 of issue 9: without the PAT controls a guest's WRMSR to the
// passed-through IA32_PAT would stay in force in VMX root.
TEST_CASE("the PAT save/load controls are required, refused by name") {
  for (unsigned exit_bit : {18u, 19u}) {
    RawVmxMsrs raw = raw_from(kBochsSkylakeX);
    raw.exit &= ~(1ull << (32 + exit_bit));
    raw.true_exit &= ~(1ull << (32 + exit_bit));
    const ComputedControls c = compute_controls(decode(raw), mamori_control_request());
    CHECK_FALSE(c.ok());
    REQUIRE(c.missing_count == 1);
    CHECK(c.missing[0].kind == ControlKind::exit);
    CHECK(std::strcmp(control_bit_name(c.missing[0].kind, c.missing[0].bit), exit_bit == 18 ? "save_pat" : "load_pat") == 0);
  }
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.entry &= ~(1ull << (32 + 14));
  raw.true_entry &= ~(1ull << (32 + 14));
  const ComputedControls c = compute_controls(decode(raw), mamori_control_request());
  CHECK(c.is_missing(ControlKind::entry, bit_of(EntryCtl::load_pat)));
  const Readiness r = evaluate_readiness(decode(raw));
  CHECK_FALSE(r.ready());
}

// Finding 11 of issue 9: MOV to CR8 must exit (there is no TPR shadow),
// or the guest writes the physical TPR.
TEST_CASE("CR8-load and CR8-store exiting are required and set") {
  for (const auto* set : {&kBochsSkylakeX, &kBochsIvyBridge, &kCoffeeLake}) {
    const Machine m = machine(*set);
    CHECK(m.ctl.proc() & bit_of(ProcCtl::cr8_load_exiting));
    CHECK(m.ctl.proc() & bit_of(ProcCtl::cr8_store_exiting));
    CHECK_FALSE(m.ctl.proc() & bit_of(ProcCtl::tpr_shadow));
  }
  RawVmxMsrs raw = raw_from(kBochsSkylakeX);
  raw.procbased &= ~(1ull << (32 + 19));
  raw.true_procbased &= ~(1ull << (32 + 19));
  const ComputedControls c = compute_controls(decode(raw), mamori_control_request());
  CHECK(c.is_missing(ControlKind::proc, bit_of(ProcCtl::cr8_load_exiting)));
}
