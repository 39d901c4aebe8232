// The lazy switch of the syscall MSRs (vmm/vcpu/msr_switch.hpp) against a
// fake CPU: the host's values come back before the partition runs, guests
// never see each other's, SWAPGS changes are kept, a reload starts clean,
// and WRMSR happens only where the CPU holds another value.
#include <catch.hpp>
#include <map>
#include "vmm/vcpu/msr_switch.hpp"

using namespace mamori::vcpu;

namespace {
class FakeCpu final : public MsrCpu {
 public:
  std::map<uint32_t, uint64_t> regs;
  int writes = 0;
  uint64_t rdmsr(uint32_t m) override {
    REQUIRE(regs.count(m));  // an MSR the CPU does not have would #GP
    return regs[m];
  }
  void wrmsr(uint32_t m, uint64_t v) override {
    REQUIRE(regs.count(m));
    regs[m] = v;
    ++writes;
  }
  // SWAPGS with GS base 0 in the guest: KERNEL_GS_BASE becomes 0's partner.
  void swapgs_sets_kgs(uint64_t v) { regs[msr::kKernelGsBase] = v; }
};

constexpr uint64_t kHostStar = 0x0033000800000000ull, kHostLstar = 0xFFFFFFFF80101000ull, kHostFmask = 0x47700;

FakeCpu host_cpu(bool tsc_aux, bool spec_ctrl) {
  FakeCpu c;
  c.regs[msr::kStar] = kHostStar;
  c.regs[msr::kLstar] = kHostLstar;
  c.regs[msr::kSfmask] = kHostFmask;
  c.regs[msr::kKernelGsBase] = 0;
  if (tsc_aux) c.regs[msr::kTscAux] = 0;
  if (spec_ctrl) c.regs[msr::kSpecCtrl] = 0;
  return c;
}

MsrFeatures features(bool tsc_aux, bool spec_ctrl) {
  MsrFeatures f;
  f.tsc_aux = tsc_aux;
  f.ibrs_ibpb = spec_ctrl;
  return f;
}

SwitchedGuest linux_guest(uint64_t lstar, uint64_t kgs) {
  SwitchedGuest g;
  g.state.star = 0x0023001000000000ull;
  g.state.lstar = lstar;
  g.state.sfmask = 0x257FD5;
  g.state.kernel_gs_base = kgs;
  g.state.tsc_aux = 1;
  g.state.spec_ctrl = 1;
  return g;
}
}  // namespace

TEST_CASE("load puts the guest's values in; release puts the host's back") {
  FakeCpu cpu = host_cpu(true, true);
  const MsrFeatures f = features(true, true);
  CpuMsrSwitch sw;
  SwitchedGuest g = linux_guest(0xFFFFFFFF81000000ull, 0xFFFF888000001000ull);
  sw.load(cpu, f, g);
  CHECK(sw.owner() == &g);
  CHECK(cpu.regs[msr::kLstar] == 0xFFFFFFFF81000000ull);
  CHECK(cpu.regs[msr::kStar] == 0x0023001000000000ull);
  CHECK(cpu.regs[msr::kSfmask] == 0x257FD5);
  CHECK(cpu.regs[msr::kKernelGsBase] == 0xFFFF888000001000ull);
  CHECK(cpu.regs[msr::kTscAux] == 1);
  CHECK(cpu.regs[msr::kSpecCtrl] == 1);
  CHECK_FALSE(g.fresh);
  CHECK(g.loaded);
  sw.release(cpu, f);
  CHECK_FALSE(g.loaded);  // the next entry must load it again
  CHECK(sw.owner() == nullptr);
  CHECK(cpu.regs[msr::kStar] == kHostStar);
  CHECK(cpu.regs[msr::kLstar] == kHostLstar);
  CHECK(cpu.regs[msr::kSfmask] == kHostFmask);
  CHECK(cpu.regs[msr::kKernelGsBase] == 0);
  CHECK(cpu.regs[msr::kTscAux] == 0);
  CHECK(cpu.regs[msr::kSpecCtrl] == 0);
}

TEST_CASE("values stay in the CPU across exits: a second load writes nothing") {
  FakeCpu cpu = host_cpu(false, false);
  const MsrFeatures f = features(false, false);
  CpuMsrSwitch sw;
  SwitchedGuest g = linux_guest(0xFFFFFFFF81000000ull, 0);
  sw.load(cpu, f, g);
  const int after_first = cpu.writes;
  CHECK(after_first == 3);  // STAR, LSTAR, FMASK differ; KERNEL_GS_BASE is 0 in both
  sw.load(cpu, f, g);
  sw.load(cpu, f, g);
  CHECK(cpu.writes == after_first);
}

TEST_CASE("MSRs the CPU lacks are never touched") {
  FakeCpu cpu = host_cpu(false, false);  // no TSC_AUX, no SPEC_CTRL: rdmsr/wrmsr of them fail the test
  const MsrFeatures f = features(false, false);
  CpuMsrSwitch sw;
  SwitchedGuest g = linux_guest(0xFFFFFFFF81000000ull, 5);
  sw.load(cpu, f, g);
  sw.release(cpu, f);
  CHECK(cpu.regs.count(msr::kTscAux) == 0);
  CHECK(cpu.regs.count(msr::kSpecCtrl) == 0);
}

TEST_CASE("the guest's SWAPGS is kept: read back on release, on RDMSR, and when another guest loads") {
  FakeCpu cpu = host_cpu(false, false);
  const MsrFeatures f = features(false, false);
  CpuMsrSwitch sw;
  SwitchedGuest a = linux_guest(0xFFFFFFFF81000000ull, 0x1000);
  SwitchedGuest b = linux_guest(0xFFFFFFFF82000000ull, 0x2000);
  sw.load(cpu, f, a);
  cpu.swapgs_sets_kgs(0xA0A0);  // a's SWAPGS, no exit
  sw.before_read(cpu, a, msr::kKernelGsBase);
  CHECK(a.state.kernel_gs_base == 0xA0A0);
  cpu.swapgs_sets_kgs(0xA1A1);
  CHECK(a.loaded);  // an RDMSR does not give the CPU away
  sw.load(cpu, f, b);  // another guest on this CPU
  CHECK_FALSE(a.loaded);
  CHECK(b.loaded);
  CHECK(a.state.kernel_gs_base == 0xA1A1);
  CHECK(cpu.regs[msr::kKernelGsBase] == 0x2000);
  CHECK(cpu.regs[msr::kLstar] == 0xFFFFFFFF82000000ull);
  cpu.swapgs_sets_kgs(0xB0B0);
  sw.release(cpu, f);
  CHECK(b.state.kernel_gs_base == 0xB0B0);
  CHECK(cpu.regs[msr::kKernelGsBase] == 0);
  sw.load(cpu, f, a);  // a again: its own values, not b's
  CHECK(cpu.regs[msr::kKernelGsBase] == 0xA1A1);
  CHECK(cpu.regs[msr::kLstar] == 0xFFFFFFFF81000000ull);
}

TEST_CASE("a WRMSR goes into the CPU at once for the owner, at the next load otherwise") {
  FakeCpu cpu = host_cpu(false, false);
  const MsrFeatures f = features(false, false);
  CpuMsrSwitch sw;
  SwitchedGuest g = linux_guest(0xFFFFFFFF81000000ull, 0);
  sw.load(cpu, f, g);
  g.state.lstar = 0xFFFFFFFF81111000ull;
  sw.after_write(cpu, f, g, msr::kLstar);
  CHECK(cpu.regs[msr::kLstar] == 0xFFFFFFFF81111000ull);
  // KERNEL_GS_BASE written after a SWAPGS changed the CPU's: written anyway.
  cpu.swapgs_sets_kgs(0x77);
  g.state.kernel_gs_base = 0;
  sw.after_write(cpu, f, g, msr::kKernelGsBase);
  CHECK(cpu.regs[msr::kKernelGsBase] == 0);
  sw.release(cpu, f);  // the partition ran during the exit
  g.state.lstar = 0xFFFFFFFF81222000ull;
  sw.after_write(cpu, f, g, msr::kLstar);
  CHECK(cpu.regs[msr::kLstar] == kHostLstar);  // not while the host's are in
  sw.load(cpu, f, g);
  CHECK(cpu.regs[msr::kLstar] == 0xFFFFFFFF81222000ull);
}

TEST_CASE("a reloaded guest starts from its reset values even while it owns the CPU") {
  FakeCpu cpu = host_cpu(false, false);
  const MsrFeatures f = features(false, false);
  CpuMsrSwitch sw;
  SwitchedGuest g = linux_guest(0xFFFFFFFF81000000ull, 0x1000);
  sw.load(cpu, f, g);
  cpu.swapgs_sets_kgs(0x1000);
  g = SwitchedGuest{};  // reload_guest
  CHECK_FALSE(g.loaded);
  sw.load(cpu, f, g);
  CHECK(g.loaded);
  CHECK(cpu.regs[msr::kLstar] == 0);
  CHECK(cpu.regs[msr::kStar] == 0);
  CHECK(cpu.regs[msr::kKernelGsBase] == 0);
  CHECK(g.state.kernel_gs_base == 0);
}

TEST_CASE("release before any guest ran changes nothing (the host's values are not yet known)") {
  FakeCpu cpu = host_cpu(false, false);
  const MsrFeatures f = features(false, false);
  CpuMsrSwitch sw;
  sw.release(cpu, f);
  CHECK(cpu.writes == 0);
  CHECK(cpu.regs[msr::kLstar] == kHostLstar);
}
