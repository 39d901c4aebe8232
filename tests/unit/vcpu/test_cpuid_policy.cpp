// Each CPUID rule of vmm/vcpu/cpuid_policy.hpp against a host that sets
// every feature bit (so a bit the guest sees set is one the policy let
// through or set itself).
#include <catch.hpp>
#include <map>
#include <string>
#include <utility>
#include "vmm/vcpu/cpuid_policy.hpp"

using namespace mamori::vcpu;

namespace {
constexpr uint32_t bit(unsigned n) { return 1u << n; }

// A CPU with every bit of every feature word set, max leaf 0x16 and
// XSAVE sub-leaves for x87..AVX-512 and PKRU.
class AllOnesHost final : public CpuidSource {
 public:
  std::map<std::pair<uint32_t, uint32_t>, CpuidRegs> leaves;
  AllOnesHost() {
    leaves[{0, 0}] = {0x16, 0x756e6547, 0x6c65746e, 0x49656e69};  // GenuineIntel
    leaves[{1, 0}] = {0x906EA, 0xFFFF0800, 0xFFFFFFFF, 0xFFFFFFFF};
    leaves[{4, 0}] = {0xFC004121, 0x01C0003F, 0x3F, 0};  // L1d: type 1, level 1
    leaves[{4, 3}] = {0xFC03C163, 0x03C0003F, 0x3FFF, 6};  // L3: type 3, level 3
    leaves[{5, 0}] = {0x40, 0x40, 3, 0x11142120};
    leaves[{6, 0}] = {0xFFFFFFFF, 2, 0xFFFFFFFF, 0};
    leaves[{7, 0}] = {2, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
    leaves[{7, 1}] = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
    leaves[{7, 2}] = {0, 0, 0, 0xFFFFFFFF};
    leaves[{0xA, 0}] = {0x07300404, 0, 0, 0x603};
    leaves[{0xD, 0}] = {0x2FF, 0xA88, 0xA88, 0};
    leaves[{0xD, 1}] = {0x1F, 0xB00, 0x1900, 0};
    leaves[{0xD, 2}] = {256, 576, 0, 0};
    leaves[{0xD, 5}] = {64, 1088, 2, 0};   // opmask, 64-byte aligned in compacted form
    leaves[{0xD, 6}] = {512, 1152, 0, 0};
    leaves[{0xD, 7}] = {1024, 1664, 0, 0};
    leaves[{0xD, 8}] = {128, 0, 1, 0};  // PT: a supervisor component
    leaves[{0x15, 0}] = {2, 200, 0, 0};
    leaves[{0x80000000, 0}] = {0x80000008, 0, 0, 0};
    leaves[{0x80000001, 0}] = {0, 0, 0xFFFFFFFF, 0xFFFFFFFF};
    leaves[{0x80000007, 0}] = {0, 0, 0, 0xFFFFFFFF};
    leaves[{0x80000008, 0}] = {0x3027, 0xFFFFFFFF, 0, 0};
  }
  CpuidRegs query(uint32_t leaf, uint32_t sub) const override {
    auto it = leaves.find({leaf, sub});
    if (it != leaves.end()) return it->second;
    // Sub-leaf-less leaves answer any ECX.
    it = leaves.find({leaf, 0});
    if (it != leaves.end() && leaf != 4 && leaf != 7 && leaf != 0xD) return it->second;
    return {};
  }
};

CpuidConfig config() {
  CpuidConfig c;
  c.tsc_hz = 2'100'000'000;
  c.apic_timer_hz = 25'000'000;
  c.vcpu_count = 2;
  c.apic_id = 1;
  c.guest_id = 7;
  c.xsave_mask = 0x2E7;  // x87 SSE AVX AVX-512 PKRU (no MPX)
  c.xsave_bytes_all = 0xA88;
  c.rdtscp = true;
  c.invpcid = true;
  return c;
}

CpuidRegs q(uint32_t leaf, uint32_t sub = 0, CpuidConfig c = config(), CpuidGuestState st = {}) {
  static AllOnesHost host;
  return guest_cpuid(host, c, st, leaf, sub);
}
}  // namespace

TEST_CASE("leaf 1: no VMX, hypervisor bit, x2APIC and TSC-deadline, no MONITOR or PDCM") {
  CpuidRegs r = q(1);
  CHECK((r.ecx & bit(5)) == 0);   // VMX
  CHECK((r.ecx & bit(6)) == 0);   // SMX
  CHECK((r.ecx & bit(3)) == 0);   // MONITOR
  CHECK((r.ecx & bit(15)) == 0);  // PDCM
  CHECK((r.ecx & bit(7)) == 0);   // EIST
  CHECK((r.ecx & bit(8)) == 0);   // TM2
  CHECK((r.ecx & bit(18)) == 0);  // DCA
  CHECK((r.ecx & bit(31)) != 0);  // hypervisor
  CHECK((r.ecx & bit(21)) != 0);  // x2APIC
  CHECK((r.ecx & bit(24)) != 0);  // TSC-deadline
  CHECK((r.ecx & bit(28)) != 0);  // AVX (in the XSAVE mask)
  CHECK(r.eax == 0x906EA);        // family/model/stepping as the CPU says
}

TEST_CASE("leaf 1 EDX: MTRR, MCE, MCA, APIC set; DS, ACPI, TM, PBE, PSN hidden; HTT with two vCPUs") {
  CpuidRegs r = q(1);
  for (unsigned b : {7u, 9u, 12u, 14u, 28u}) CHECK((r.edx & bit(b)) != 0);
  for (unsigned b : {18u, 21u, 22u, 29u, 31u}) CHECK((r.edx & bit(b)) == 0);
  CpuidConfig one = config();
  one.vcpu_count = 1;
  CHECK((q(1, 0, one).edx & bit(28)) == 0);
  // Even on a host that clears them, the virtualised features are set.
  AllOnesHost bare;
  bare.leaves[{1, 0}] = {0x906EA, 0, 0, 0};
  CpuidRegs b = guest_cpuid(bare, config(), {}, 1, 0);
  CHECK((b.edx & (bit(7) | bit(9) | bit(12) | bit(14))) == (bit(7) | bit(9) | bit(12) | bit(14)));
  CHECK((b.ecx & (bit(21) | bit(24) | bit(31))) == (bit(21) | bit(24) | bit(31)));
}

TEST_CASE("leaf 1 EBX: initial APIC id and addressable logical processors") {
  CpuidRegs r = q(1);
  CHECK(r.ebx >> 24 == 1);
  CHECK(((r.ebx >> 16) & 0xFF) == 2);
  CHECK((r.ebx & 0xFFFF) == 0x0800);  // brand index, CLFLUSH size kept
  CpuidConfig c = config();
  c.vcpu_count = 3;
  c.apic_id = 2;
  CpuidRegs t = q(1, 0, c);
  CHECK(((t.ebx >> 16) & 0xFF) == 4);  // rounded to a power of two
  CHECK(t.ebx >> 24 == 2);
}

TEST_CASE("leaf 1 OSXSAVE follows the guest's CR4") {
  CHECK((q(1).ecx & bit(27)) == 0);
  CpuidGuestState st;
  st.cr4 = 1ull << 18;
  CHECK((q(1, 0, config(), st).ecx & bit(27)) != 0);
}

TEST_CASE("leaf 0: vendor kept, max basic leaf 1FH (time and topology leaves exist)") {
  CpuidRegs r = q(0);
  CHECK(r.eax == 0x1F);
  CHECK(r.ebx == 0x756e6547);
  CHECK(r.ecx == 0x6c65746e);
}

TEST_CASE("leaf 5 (MONITOR/MWAIT) and leaf 0AH (PMU) are zero") {
  CHECK(q(5) == CpuidRegs{});
  CHECK(q(0xA) == CpuidRegs{});
}

TEST_CASE("leaf 6: APERF/MPERF, EPB, HWP hidden; ARAT set") {
  CpuidRegs r = q(6);
  CHECK(r.ecx == 0);
  CHECK(r.eax == bit(2));
}

TEST_CASE("leaf 7: TSC_ADJUST, HLE, RTM, SGX, PT, WAITPKG hidden; INVPCID and RDPID as the VMCS allows") {
  CpuidRegs r = q(7, 0);
  CHECK(r.eax == 1);  // highest sub-leaf offered
  for (unsigned b : {1u, 2u, 4u, 11u, 12u, 15u, 25u}) CHECK((r.ebx & bit(b)) == 0);
  CHECK((r.ebx & bit(10)) != 0);  // INVPCID
  CHECK((r.ebx & bit(14)) == 0);  // MPX: not in the XSAVE mask
  CHECK((r.ebx & bit(16)) != 0);  // AVX512F: in the mask
  CHECK((r.ebx & bit(5)) != 0);   // AVX2
  for (unsigned b : {5u, 7u, 13u, 23u, 24u, 29u, 30u, 31u}) CHECK((r.ecx & bit(b)) == 0);
  CHECK((r.ecx & bit(22)) != 0);  // RDPID
  CHECK((r.ecx & bit(3)) != 0);   // PKU
  CHECK((r.ecx & bit(4)) == 0);   // OSPKE: the guest's CR4.PKE is clear
  for (unsigned b : {1u, 5u, 9u, 11u, 13u, 15u, 16u, 18u, 19u, 20u, 28u, 30u}) CHECK((r.edx & bit(b)) == 0);
  for (unsigned b : {10u, 26u, 27u, 29u, 31u}) CHECK((r.edx & bit(b)) != 0);  // MD_CLEAR, speculation controls
  CHECK(q(7, 2) == CpuidRegs{});

  CpuidConfig c = config();
  c.invpcid = false;
  c.rdtscp = false;
  c.xsave_mask = 3;
  CpuidRegs s = q(7, 0, c);
  CHECK((s.ebx & bit(10)) == 0);
  CHECK((s.ecx & bit(22)) == 0);
  CHECK((s.ebx & (bit(5) | bit(16))) == 0);  // AVX2 and AVX-512 need their state
  CHECK((s.ecx & bit(3)) == 0);              // PKU needs PKRU
  CpuidGuestState pke;
  pke.cr4 = 1ull << 22;
  CHECK((q(7, 0, config(), pke).ecx & bit(4)) != 0);
}

TEST_CASE("leaf 0BH and 1FH: x2APIC topology of N single-thread cores") {
  for (uint32_t leaf : {0xBu, 0x1Fu}) {
    CpuidRegs smt = q(leaf, 0);
    CHECK(smt.eax == 0);
    CHECK(smt.ebx == 1);
    CHECK(smt.ecx == (1u << 8));
    CHECK(smt.edx == 1);
    CpuidRegs core = q(leaf, 1);
    CHECK(core.eax == 1);  // two vCPUs: one bit of core id
    CHECK(core.ebx == 2);
    CHECK(core.ecx == ((2u << 8) | 1));
    CHECK(core.edx == 1);
    CpuidRegs end = q(leaf, 2);
    CHECK(end.ebx == 0);
    CHECK((end.ecx >> 8) == 0);  // invalid level: the list ends
    CHECK(end.edx == 1);
  }
  CpuidConfig c = config();
  c.vcpu_count = 5;
  CHECK(q(0xB, 1, c).eax == 3);
  CHECK(q(0xB, 1, c).ebx == 5);
}

TEST_CASE("leaf 4: cores per package and sharing follow the vCPU count") {
  CpuidRegs l1 = q(4, 0);
  CHECK((l1.eax >> 26) == 1);
  CHECK(((l1.eax >> 14) & 0xFFF) == 0);
  CHECK((l1.eax & 0x3FFF) == (0xFC004121u & 0x3FFF));
  CpuidRegs l3 = q(4, 3);
  CHECK(((l3.eax >> 14) & 0xFFF) == 1);
  CHECK(q(4, 1) == CpuidRegs{});  // the host's end of list
}

TEST_CASE("leaf 15H: the crystal is the APIC timer clock, the ratio gives the TSC rate Linux computes") {
  CpuidRegs r = q(0x15);
  CHECK(r.ecx == 25'000'000);
  REQUIRE(r.eax != 0);
  // Linux 6.1 native_calibrate_tsc, in 32-bit arithmetic.
  uint32_t crystal_khz = r.ecx / 1000;
  uint32_t tsc_khz = crystal_khz * r.ebx / r.eax;
  CHECK(tsc_khz == 2'100'000);
  CHECK(static_cast<uint64_t>(crystal_khz) * r.ebx < (1ull << 32));

  // A measured, odd rate: no 32-bit overflow, within 25 ppm.
  CpuidConfig c = config();
  c.tsc_hz = 2'899'997'123;
  CpuidRegs o = q(0x15, 0, c);
  REQUIRE(o.eax != 0);
  CHECK(static_cast<uint64_t>(o.ecx / 1000) * o.ebx < (1ull << 32));
  uint64_t khz = static_cast<uint32_t>((o.ecx / 1000) * o.ebx) / o.eax;
  CHECK(khz > 2'899'997 - 75);
  CHECK(khz < 2'899'997 + 75);
}

TEST_CASE("leaf 16H: base, maximum and bus frequency in MHz") {
  CpuidRegs r = q(0x16);
  CHECK(r.eax == 2100);
  CHECK(r.ebx == 2100);
  CHECK(r.ecx == 25);
}

TEST_CASE("hypervisor leaves: signature, max leaf 40000010H, ABI version and guest id, timing leaf") {
  CpuidRegs base = q(kCpuidHvBase);
  CHECK(base.eax == 0x40000010);
  char sig[13] = {};
  for (int i = 0; i < 4; ++i) {
    sig[i] = static_cast<char>(base.ebx >> (8 * i));
    sig[4 + i] = static_cast<char>(base.ecx >> (8 * i));
    sig[8 + i] = static_cast<char>(base.edx >> (8 * i));
  }
  CHECK(std::string(sig) == "mamoriVMMabi");
  CHECK(q(kCpuidHvInfo) == CpuidRegs{1, 7, 0, 0});
  CHECK(q(0x40000010) == CpuidRegs{2'100'000, 25'000, 0, 0});
  CHECK(q(0x40000002) == CpuidRegs{});
  CHECK(q(0x40000011) == CpuidRegs{});
  CHECK(q(0x4FFFFFFF) == CpuidRegs{});
}

TEST_CASE("leaf 0DH: the switched components only; no XSAVES or XFD") {
  CpuidGuestState st;
  st.xsave_bytes_current = 576;
  CpuidRegs s0 = q(0xD, 0, config(), st);
  CHECK(s0.eax == 0x2E7);
  CHECK(s0.edx == 0);
  CHECK(s0.ebx == 576);
  CHECK(s0.ecx == 0xA88);
  CpuidRegs s1 = q(0xD, 1, config(), st);
  CHECK(s1.eax == 0x7);  // XSAVEOPT, XSAVEC, XGETBV1
  CHECK(s1.ebx == 576);  // compacted size for XCR0 = x87|SSE
  st.xcr0 = 0x7;         // + AVX (256 bytes, no alignment)
  CHECK(q(0xD, 1, config(), st).ebx == 576 + 256);
  st.xcr0 = 0x7 | (1ull << 8);  // a component not switched counts nothing
  CHECK(q(0xD, 1, config(), st).ebx == 576 + 256);
  CHECK(s1.ecx == 0);
  CHECK(s1.edx == 0);
  CHECK(q(0xD, 2) == CpuidRegs{256, 576, 0, 0});  // AVX: offered
  CHECK(q(0xD, 3) == CpuidRegs{});                // MPX: not offered
  CHECK(q(0xD, 8) == CpuidRegs{});                // supervisor component
  CpuidConfig fx = config();
  fx.xsave_bytes_all = 512;  // FXSAVE only: no XSAVE at all
  CHECK(q(0xD, 0, fx) == CpuidRegs{});
  CHECK((q(1, 0, fx).ecx & (bit(26) | bit(28))) == 0);
}

TEST_CASE("leaf 0DH sub-leaf 1 EBX is the exact compacted size Linux 6.1 recomputes (x87..AVX-512)") {
  CpuidGuestState st;
  st.xcr0 = 0xE7;
  // 576 + AVX 256 = 832, opmask aligned to 64 (832) + 64 = 896, + 512 + 1024.
  CHECK(q(0xD, 1, config(), st).ebx == 2432);
}

TEST_CASE("hidden leaves are zero: PSN, DCA, RDT, SGX, PT, Key Locker, PCONFIG") {
  for (uint32_t leaf : {3u, 9u, 0xFu, 0x10u, 0x12u, 0x14u, 0x19u, 0x1Bu}) CHECK(q(leaf) == CpuidRegs{});
}

TEST_CASE("leaves above the highest basic leaf answer as the highest (Intel)") {
  CHECK(q(0x20, 1) == q(0x1F, 1));
  CHECK(q(0x80000009) == q(0x1F, 0));
}

TEST_CASE("extended leaves: RDTSCP as enabled, invariant TSC, address sizes") {
  CpuidRegs e1 = q(0x80000001);
  CHECK((e1.edx & bit(27)) != 0);
  CHECK((e1.edx & (bit(11) | bit(20) | bit(29))) == (bit(11) | bit(20) | bit(29)));
  CHECK(e1.ecx == (bit(0) | bit(5) | bit(8)));
  CpuidConfig c = config();
  c.rdtscp = false;
  CHECK((q(0x80000001, 0, c).edx & bit(27)) == 0);
  CHECK(q(0x80000007).edx == bit(8));
  CHECK(q(0x80000008).eax == 0x3027);
  CHECK(q(0x80000000).eax == 0x80000008);
}
