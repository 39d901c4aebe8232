// Each rule of the MSR table (vmm/vcpu/msr_table.hpp).
#include <catch.hpp>
#include "vmm/vcpu/msr_table.hpp"

using namespace mamori::vcpu;

namespace {
MsrFeatures all() {
  MsrFeatures f;
  f.ibrs_ibpb = f.stibp = f.ssbd = f.arch_capabilities = f.tsc_aux = true;
  f.host_arch_capabilities = ~0ull;
  f.tsc_hz = 2'100'000'000;
  f.phys_bits = 39;
  f.virt_bits = 48;
  return f;
}
bool reads(const MsrFeatures& f, const MsrState& s, uint32_t m, uint64_t* v = nullptr) {
  MsrResult r = msr_read(f, s, m, 1000);
  if (v) *v = r.value;
  return r.ok;
}
bool writes(const MsrFeatures& f, MsrState& s, uint32_t m, uint64_t v) { return msr_write(f, s, m, v).ok; }
}  // namespace

TEST_CASE("unknown and hidden MSRs are #GP for reads and writes") {
  MsrFeatures f = all();
  MsrState s;
  for (uint32_t m : {0x0u, 0x79u, 0x480u, 0xE7u, 0xE8u, 0x17Bu, 0x400u, 0x3Bu, 0x10Bu, 0x122u, 0xC0000104u, 0x40000000u}) {
    CHECK_FALSE(reads(f, s, m));
    CHECK_FALSE(writes(f, s, m, 0));
  }
}

TEST_CASE("the virtual LAPIC's MSRs are not in the table") {
  MsrFeatures f = all();
  for (uint32_t m : {0x1Bu, 0x6E0u, 0x800u, 0x802u, 0x830u, 0x8FFu}) CHECK(find_msr(f, m) == nullptr);
}

TEST_CASE("IA32_TSC reads the host TSC plus the guest's offset; writes are ignored") {
  MsrFeatures f = all();
  MsrState s;
  uint64_t v = 0;
  REQUIRE(reads(f, s, msr::kTsc, &v));
  CHECK(v == 1000);
  s.tsc_offset = -400;
  REQUIRE(reads(f, s, msr::kTsc, &v));
  CHECK(v == 600);
  CHECK(writes(f, s, msr::kTsc, 5));
  CHECK(s.tsc_offset == -400);
}

TEST_CASE("MTRRs: capability, default type, fixed and variable ranges per guest, types checked") {
  MsrFeatures f = all();
  MsrState s;
  uint64_t v = 0;
  REQUIRE(reads(f, s, msr::kMtrrCap, &v));
  CHECK(v == 0x508);
  CHECK_FALSE(writes(f, s, msr::kMtrrCap, 0x508));
  REQUIRE(reads(f, s, msr::kMtrrDefType, &v));
  CHECK(v == 0x806);
  CHECK(writes(f, s, msr::kMtrrDefType, 0xC00));  // enabled, UC default
  CHECK(s.mtrr_def_type == 0xC00);
  CHECK_FALSE(writes(f, s, msr::kMtrrDefType, 0x802));   // type 2 reserved
  CHECK_FALSE(writes(f, s, msr::kMtrrDefType, 0x1806));  // reserved bit 12
  CHECK_FALSE(writes(f, s, msr::kMtrrDefType, 0x906));   // reserved bit 8
  for (uint32_t m : {0x250u, 0x258u, 0x259u, 0x268u, 0x26Fu}) {
    REQUIRE(reads(f, s, m, &v));
    CHECK(v == kMtrrFixedWb);
  }
  CHECK(writes(f, s, 0x259, 0x0000000001010101ull));
  REQUIRE(reads(f, s, 0x259, &v));
  CHECK(v == 0x0000000001010101ull);
  CHECK(s.mtrr_fixed[2] == 0x0000000001010101ull);
  CHECK_FALSE(writes(f, s, 0x26A, 0x0606060606060607ull));  // one byte of type 7
  CHECK_FALSE(writes(f, s, 0x251, 0));  // not a fixed-range MTRR
  CHECK(writes(f, s, 0x200, 0x80000006ull));                 // PHYSBASE0: 2 GiB WB
  CHECK(writes(f, s, 0x201, 0x7F80000800ull));               // PHYSMASK0: 2 GiB, valid
  REQUIRE(reads(f, s, 0x201, &v));
  CHECK(v == 0x7F80000800ull);
  CHECK_FALSE(writes(f, s, 0x202, 0x80000003ull));   // type 3 reserved
  CHECK_FALSE(writes(f, s, 0x202, 0x80000106ull));   // reserved bit 8
  CHECK_FALSE(writes(f, s, 0x203, 0x8000000801ull)); // reserved bit 0 of a mask
  CHECK_FALSE(writes(f, s, 0x203, 1ull << 39 | 0x800));  // above MAXPHYADDR
  CHECK(writes(f, s, 0x20F, 0));
  CHECK_FALSE(reads(f, s, 0x210));
}

TEST_CASE("IA32_MISC_ENABLE: fast strings, BTS/PEBS unavailable; only fast strings writable") {
  MsrFeatures f = all();
  MsrState s;
  uint64_t v = 0;
  REQUIRE(reads(f, s, msr::kMiscEnable, &v));
  CHECK(v == 0x1801);
  CHECK(writes(f, s, msr::kMiscEnable, 0x1800));
  CHECK(s.misc_enable == 0x1800);
  CHECK(writes(f, s, msr::kMiscEnable, 0x1801));
  CHECK_FALSE(writes(f, s, msr::kMiscEnable, 0x1801 | 1ull << 22));  // limit CPUID maxval
  CHECK_FALSE(writes(f, s, msr::kMiscEnable, 0x1801 | 1ull << 34));  // XD disable
  CHECK_FALSE(writes(f, s, msr::kMiscEnable, 0x0001));               // read-only bits cleared
}

TEST_CASE("read-only identification MSRs") {
  MsrFeatures f = all();
  MsrState s;
  uint64_t v = 0;
  REQUIRE(reads(f, s, msr::kBiosSignId, &v));
  CHECK(v == 1ull << 32);
  CHECK(writes(f, s, msr::kBiosSignId, 0));  // the microcode revision dance
  REQUIRE(reads(f, s, msr::kPlatformId, &v));
  CHECK(v == 0);
  CHECK_FALSE(writes(f, s, msr::kPlatformId, 0));
  REQUIRE(reads(f, s, msr::kFeatureControl, &v));
  CHECK(v == 1);  // locked, no VMX
  CHECK_FALSE(writes(f, s, msr::kFeatureControl, 5));
  CHECK_FALSE(writes(f, s, msr::kFeatureControl, 1));
  REQUIRE(reads(f, s, msr::kPlatformInfo, &v));
  CHECK(v == 21u << 8);
  CHECK_FALSE(writes(f, s, msr::kPlatformInfo, 0));
}

TEST_CASE("machine check: no banks, MCG_STATUS stored within its defined bits") {
  MsrFeatures f = all();
  MsrState s;
  uint64_t v = 1;
  REQUIRE(reads(f, s, msr::kMcgCap, &v));
  CHECK(v == 0);
  CHECK_FALSE(writes(f, s, msr::kMcgCap, 0));
  CHECK(writes(f, s, msr::kMcgStatus, 0));
  CHECK(writes(f, s, msr::kMcgStatus, 5));
  REQUIRE(reads(f, s, msr::kMcgStatus, &v));
  CHECK(v == 5);
  CHECK_FALSE(writes(f, s, msr::kMcgStatus, 8));
  CHECK_FALSE(reads(f, s, 0x401));  // IA32_MC0_STATUS: no bank 0
}

TEST_CASE("speculation controls exist only as the CPU has them") {
  MsrFeatures none;
  MsrState s;
  CHECK_FALSE(reads(none, s, msr::kSpecCtrl));
  CHECK_FALSE(writes(none, s, msr::kPredCmd, 1));
  CHECK_FALSE(reads(none, s, msr::kArchCapabilities));

  MsrFeatures f = all();
  CHECK(writes(f, s, msr::kSpecCtrl, 7));
  CHECK(s.spec_ctrl == 7);
  CHECK(msr_write(f, s, msr::kSpecCtrl, 1).switched);
  CHECK_FALSE(writes(f, s, msr::kSpecCtrl, 8));
  MsrFeatures ibrs_only;
  ibrs_only.ibrs_ibpb = true;
  CHECK(writes(ibrs_only, s, msr::kSpecCtrl, 1));
  CHECK_FALSE(writes(ibrs_only, s, msr::kSpecCtrl, 2));  // STIBP absent
  CHECK_FALSE(writes(ibrs_only, s, msr::kSpecCtrl, 4));  // SSBD absent

  CHECK_FALSE(reads(f, s, msr::kPredCmd));  // write-only
  MsrResult ibpb = msr_write(f, s, msr::kPredCmd, 1);
  CHECK(ibpb.ok);
  CHECK(ibpb.ibpb);
  CHECK(msr_write(f, s, msr::kPredCmd, 0).ok);
  CHECK_FALSE(msr_write(f, s, msr::kPredCmd, 0).ibpb);
  CHECK_FALSE(writes(f, s, msr::kPredCmd, 2));

  uint64_t v = 0;
  REQUIRE(reads(f, s, msr::kArchCapabilities, &v));
  CHECK((v & 0x7F) == 0x7F);
  CHECK((v & (1ull << 7)) == 0);  // TSX_CTRL: its MSR is not offered
  CHECK((v & (1ull << 9)) == 0);  // MCU_CONTROL
  CHECK_FALSE(writes(f, s, msr::kArchCapabilities, 0));
}

TEST_CASE("syscall MSRs are per guest: canonical addresses, reserved upper halves") {
  MsrFeatures f = all();
  MsrState s;
  CHECK(writes(f, s, msr::kStar, 0x0023001000000000ull));
  CHECK(writes(f, s, msr::kLstar, 0xFFFFFFFF81000000ull));
  CHECK(writes(f, s, msr::kCstar, 0xFFFFFFFF81000100ull));
  CHECK(writes(f, s, msr::kSfmask, 0x47700));
  CHECK(writes(f, s, msr::kKernelGsBase, 0xFFFF888000000000ull));
  CHECK(writes(f, s, msr::kTscAux, 3));
  uint64_t v = 0;
  REQUIRE(reads(f, s, msr::kLstar, &v));
  CHECK(v == 0xFFFFFFFF81000000ull);
  REQUIRE(reads(f, s, msr::kStar, &v));
  CHECK(v == 0x0023001000000000ull);
  REQUIRE(reads(f, s, msr::kTscAux, &v));
  CHECK(v == 3);
  CHECK(s.sfmask == 0x47700);
  CHECK(s.kernel_gs_base == 0xFFFF888000000000ull);
  CHECK(s.cstar == 0xFFFFFFFF81000100ull);
  CHECK_FALSE(writes(f, s, msr::kLstar, 0x0000800000000000ull));
  CHECK_FALSE(writes(f, s, msr::kCstar, 0x8000000000000000ull));
  CHECK_FALSE(writes(f, s, msr::kKernelGsBase, 0x00FF800000000000ull));
  CHECK_FALSE(writes(f, s, msr::kSfmask, 1ull << 32));
  CHECK_FALSE(writes(f, s, msr::kTscAux, 1ull << 32));
  // With 57-bit linear addresses (LA57) more addresses are canonical.
  MsrFeatures la57 = all();
  la57.virt_bits = 57;
  CHECK(writes(la57, s, msr::kLstar, 0x0000800000000000ull));
  // Which are switched in the physical MSR (vmm/vm/msrs.cpp) and which not.
  CHECK(msr_write(f, s, msr::kLstar, 0).switched);
  CHECK(msr_write(f, s, msr::kKernelGsBase, 0).switched);
  CHECK_FALSE(msr_write(f, s, msr::kCstar, 0).switched);
  CHECK_FALSE(msr_write(f, s, msr::kMtrrDefType, 0x806).switched);
  // TSC_AUX only with RDTSCP or RDPID.
  MsrFeatures no_aux = all();
  no_aux.tsc_aux = false;
  CHECK_FALSE(reads(no_aux, s, msr::kTscAux));
}

TEST_CASE("the table: ranges do not overlap, every entry cites its source") {
  size_t n = 0;
  const MsrEntry* t = msr_table(&n);
  REQUIRE(n > 10);
  for (size_t i = 0; i < n; ++i) {
    CHECK(t[i].first <= t[i].last);
    CHECK(t[i].cite != nullptr);
    CHECK(t[i].name != nullptr);
    bool needs_field = t[i].read == ReadRule::Field || t[i].write == WriteRule::Store ||
                       t[i].write == WriteRule::Canonical || t[i].write == WriteRule::Mask;
    if (needs_field) CHECK(t[i].field != nullptr);
    for (size_t j = i + 1; j < n; ++j) CHECK((t[i].last < t[j].first || t[j].last < t[i].first));
  }
}
