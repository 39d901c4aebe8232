#include "vmm/vcpu/msr_table.hpp"

namespace mamori::vcpu {
namespace {
using R = ReadRule;
using W = WriteRule;
using P = Presence;

// IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2): only fast strings (bit 0) may
// change; the rest (automatic thermal control, EIST, MONITOR FSM, limit
// CPUID maxval, xTPR, XD disable, the read-only BTS/PEBS/PMU bits) must be
// written as read, else #GP(0).
constexpr uint64_t kMiscEnableWritable = 1ull << 0;
// IA32_ARCH_CAPABILITIES bits that describe the CPU (and so hold for its
// guests): RDCL_NO 0, IBRS_ALL 1, RSBA 2, SKIP_L1DFL_VMENTRY 3, SSB_NO 4,
// MDS_NO 5, IF_PSCHANGE_MC_NO 6, TAA_NO 8, SBDR_SSDP_NO 13, FBSDP_NO 14,
// PSDP_NO 15, FB_CLEAR 17, RRSBA 19, BHI_NO 20, PBRSB_NO 24, GDS_NO 26,
// RFDS_NO 27. Bits that announce further MSRs the table does not offer
// (TSX_CTRL 7, MCU_CONTROL 9, MISC_PACKAGE_CTLS 10, ENERGY_FILTERING_CTL 11,
// DOITM 12, FB_CLEAR_CTRL 18, ...) are clear.
constexpr uint64_t kArchCapKeep = 0x7Full | (1ull << 8) | (7ull << 13) | (1ull << 17) | (3ull << 19) |
                                  (1ull << 24) | (3ull << 26);
constexpr uint64_t kPredCmdIbpb = 1;

// clang-format off
constexpr MsrEntry kTable[] = {
  {msr::kTsc, msr::kTsc, "IA32_TIME_STAMP_COUNTER", R::Tsc, W::Ignore, 0, nullptr, P::Always, false,
   "SDM Vol. 3B §17.17; writes ignored: no TSC offsetting in the VMCS yet, RDTSC would disagree"},
  {msr::kPlatformId, msr::kPlatformId, "IA32_PLATFORM_ID", R::Constant, W::Gp, 0, nullptr, P::Always, false,
   "SDM Vol. 4 Table 2-2 (read-only; Linux's microcode loader reads it)"},
  {msr::kFeatureControl, msr::kFeatureControl, "IA32_FEATURE_CONTROL", R::Constant, W::Gp, 1, nullptr, P::Always, false,
   "SDM Vol. 3C §24.7: locked (bit 0), VMX off in and outside SMX; a locked MSR's WRMSR is #GP"},
  {msr::kSpecCtrl, msr::kSpecCtrl, "IA32_SPEC_CTRL", R::Field, W::SpecCtrl, 0, &MsrState::spec_ctrl, P::SpecCtrl, true,
   "SDM Vol. 4 Table 2-2; Intel 'Speculative Execution Side Channel Mitigations' (IBRS 0, STIBP 1, SSBD 2)"},
  {msr::kPredCmd, msr::kPredCmd, "IA32_PRED_CMD", R::Gp, W::PredCmd, 0, nullptr, P::Ibpb, false,
   "SDM Vol. 4 Table 2-2: write-only, bit 0 IBPB"},
  {msr::kBiosSignId, msr::kBiosSignId, "IA32_BIOS_SIGN_ID", R::Constant, W::Ignore, kBiosSignId, nullptr, P::Always, false,
   "SDM Vol. 3A §10.11.7.1: software writes 0, executes CPUID, reads the revision (EDX)"},
  {msr::kPlatformInfo, msr::kPlatformInfo, "MSR_PLATFORM_INFO", R::PlatformInfo, W::Gp, 0, nullptr, P::Always, false,
   "SDM Vol. 4 Table 2-12: bits 15:8 maximum non-turbo ratio (x 100 MHz); no CPUID faulting (bit 32)"},
  {msr::kMperf, msr::kAperf, "IA32_MPERF/IA32_APERF", R::Gp, W::Gp, 0, nullptr, P::Always, false,
   "hidden: CPUID.06H:ECX[0] is clear (SDM Vol. 3B §14.2)"},
  {msr::kMtrrCap, msr::kMtrrCap, "IA32_MTRRCAP", R::Constant, W::Gp, kMtrrCap, nullptr, P::Always, false,
   "SDM Vol. 3A §11.11.1: read-only"},
  {msr::kArchCapabilities, msr::kArchCapabilities, "IA32_ARCH_CAPABILITIES", R::ArchCap, W::Gp, 0, nullptr, P::ArchCap,
   false, "SDM Vol. 4 Table 2-2: read-only, enumerated by CPUID.(7,0):EDX[29]"},
  {msr::kMcgCap, msr::kMcgCap, "IA32_MCG_CAP", R::Constant, W::Gp, 0, nullptr, P::Always, false,
   "SDM Vol. 3B §16.3.1.1: no banks, no MCG_CTL; read-only"},
  {msr::kMcgStatus, msr::kMcgStatus, "IA32_MCG_STATUS", R::Field, W::Mask, 0x7, &MsrState::mcg_status, P::Always, false,
   "SDM Vol. 3B §16.3.1.2: RIPV 0, EIPV 1, MCIP 2; the rest reserved"},
  {msr::kMiscEnable, msr::kMiscEnable, "IA32_MISC_ENABLE", R::Field, W::MiscEnable, 0, &MsrState::misc_enable, P::Always,
   false, "SDM Vol. 4 Table 2-2: fast strings writable (no effect on the CPU), BTS/PEBS unavailable"},
  {msr::kMtrrPhysBase0, msr::kMtrrPhysMask7, "IA32_MTRR_PHYSBASE0-7/PHYSMASK0-7", R::MtrrVar, W::MtrrVar, 0, nullptr,
   P::Always, false, "SDM Vol. 3A §11.11.2.3: type valid, reserved bits and bits above MAXPHYADDR 0"},
  {msr::kMtrrFix64k00000, msr::kMtrrFix64k00000, "IA32_MTRR_FIX64K_00000", R::MtrrFixed, W::MtrrFixed, 0, nullptr,
   P::Always, false, "SDM Vol. 3A §11.11.2.2: each byte a valid type"},
  {msr::kMtrrFix16k80000, msr::kMtrrFix16kA0000, "IA32_MTRR_FIX16K_80000/A0000", R::MtrrFixed, W::MtrrFixed, 0, nullptr,
   P::Always, false, "SDM Vol. 3A §11.11.2.2: each byte a valid type"},
  {msr::kMtrrFix4kC0000, msr::kMtrrFix4kF8000, "IA32_MTRR_FIX4K_C0000-F8000", R::MtrrFixed, W::MtrrFixed, 0, nullptr,
   P::Always, false, "SDM Vol. 3A §11.11.2.2: each byte a valid type"},
  {msr::kMtrrDefType, msr::kMtrrDefType, "IA32_MTRR_DEF_TYPE", R::Field, W::MtrrDefType, 0, &MsrState::mtrr_def_type,
   P::Always, false, "SDM Vol. 3A §11.11.2.1: type 7:0, FE 10, E 11, the rest reserved"},
  {msr::kStar, msr::kStar, "IA32_STAR", R::Field, W::Store, 0, &MsrState::star, P::Always, true,
   "SDM Vol. 3A §5.8.8: SYSCALL/SYSRET selectors"},
  {msr::kLstar, msr::kLstar, "IA32_LSTAR", R::Field, W::Canonical, 0, &MsrState::lstar, P::Always, true,
   "SDM Vol. 3A §5.8.8; SDM Vol. 2B WRMSR: a non-canonical address is #GP(0)"},
  {msr::kCstar, msr::kCstar, "IA32_CSTAR", R::Field, W::Canonical, 0, &MsrState::cstar, P::Always, false,
   "SDM Vol. 4 Table 2-2; not used by Intel CPUs (SYSCALL in compatibility mode is #UD): kept per guest only"},
  {msr::kSfmask, msr::kSfmask, "IA32_FMASK", R::Field, W::Mask, 0xFFFFFFFFull, &MsrState::sfmask, P::Always, true,
   "SDM Vol. 3A §5.8.8: bits 63:32 reserved"},
  {msr::kKernelGsBase, msr::kKernelGsBase, "IA32_KERNEL_GS_BASE", R::Field, W::Canonical, 0, &MsrState::kernel_gs_base,
   P::Always, true, "SDM Vol. 2B SWAPGS; WRMSR: a non-canonical address is #GP(0)"},
  {msr::kTscAux, msr::kTscAux, "IA32_TSC_AUX", R::Field, W::Mask, 0xFFFFFFFFull, &MsrState::tsc_aux, P::TscAux, true,
   "SDM Vol. 2B RDTSCP, RDPID: bits 63:32 reserved"},
};
// clang-format on

bool present(const MsrFeatures& f, Presence p) {
  switch (p) {
    case P::Always: return true;
    case P::SpecCtrl: return f.ibrs_ibpb || f.stibp || f.ssbd;
    case P::Ibpb: return f.ibrs_ibpb;
    case P::ArchCap: return f.arch_capabilities;
    case P::TscAux: return f.tsc_aux;
  }
  return false;
}

unsigned fixed_index(uint32_t msr) {
  if (msr == msr::kMtrrFix64k00000) return 0;
  if (msr == msr::kMtrrFix16k80000) return 1;
  if (msr == msr::kMtrrFix16kA0000) return 2;
  return 3 + (msr - msr::kMtrrFix4kC0000);
}

bool canonical(uint64_t v, unsigned bits) {
  if (bits == 0 || bits >= 64) return true;
  const int64_t s = static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
  return static_cast<uint64_t>(s) == v;
}

uint64_t above_phys(const MsrFeatures& f) {
  return f.phys_bits >= 64 ? 0 : ~((1ull << f.phys_bits) - 1);
}

bool valid_fixed(uint64_t v) {
  for (unsigned i = 0; i < 8; ++i)
    if (!valid_memory_type((v >> (8 * i)) & 0xFF)) return false;
  return true;
}

// PHYSBASE: type 7:0, 11:8 reserved. PHYSMASK: 10:0 reserved, V 11. Both:
// bits at and above MAXPHYADDR reserved (SDM Vol. 3A §11.11.2.3).
bool valid_var(const MsrFeatures& f, unsigned i, uint64_t v) {
  if (v & above_phys(f)) return false;
  if (i % 2 == 0) return (v & 0xF00) == 0 && valid_memory_type(v & 0xFF);
  return (v & 0x7FF) == 0;
}

}  // namespace

const MsrEntry* msr_table(size_t* count) {
  *count = sizeof kTable / sizeof kTable[0];
  return kTable;
}

const MsrEntry* find_msr(const MsrFeatures& f, uint32_t msr) {
  for (const MsrEntry& e : kTable)
    if (msr >= e.first && msr <= e.last) return present(f, e.presence) ? &e : nullptr;
  return nullptr;
}

MsrResult msr_read(const MsrFeatures& f, const MsrState& s, uint32_t msr, uint64_t host_tsc) {
  MsrResult r;
  const MsrEntry* e = find_msr(f, msr);
  if (!e) return r;
  switch (e->read) {
    case R::Gp: return r;
    case R::Constant: r.value = e->value; break;
    case R::Tsc: r.value = host_tsc + static_cast<uint64_t>(s.tsc_offset); break;
    case R::Field: r.value = s.*(e->field); break;
    case R::PlatformInfo: r.value = ((f.tsc_hz / 100000000) & 0xFF) << 8; break;
    case R::ArchCap: r.value = f.host_arch_capabilities & kArchCapKeep; break;
    case R::MtrrFixed: r.value = s.mtrr_fixed[fixed_index(msr)]; break;
    case R::MtrrVar: r.value = s.mtrr_var[msr - msr::kMtrrPhysBase0]; break;
  }
  r.ok = true;
  return r;
}

MsrResult msr_write(const MsrFeatures& f, MsrState& s, uint32_t msr, uint64_t v) {
  MsrResult r;
  const MsrEntry* e = find_msr(f, msr);
  if (!e) return r;
  switch (e->write) {
    case W::Gp: return r;
    case W::Ignore: break;
    case W::Store: s.*(e->field) = v; break;
    case W::Canonical:
      if (!canonical(v, f.virt_bits)) return r;
      s.*(e->field) = v;
      break;
    case W::Mask:
      if (v & ~e->value) return r;
      s.*(e->field) = v;
      break;
    case W::SpecCtrl: {
      const uint64_t ok = (f.ibrs_ibpb ? 1u : 0u) | (f.stibp ? 2u : 0u) | (f.ssbd ? 4u : 0u);
      if (v & ~ok) return r;
      s.*(e->field) = v;
      break;
    }
    case W::PredCmd:
      if (v & ~kPredCmdIbpb) return r;
      r.ibpb = v & kPredCmdIbpb;
      break;
    case W::MiscEnable:
      if ((v ^ s.*(e->field)) & ~kMiscEnableWritable) return r;
      s.*(e->field) = v;
      break;
    case W::MtrrDefType:
      if ((v & ~0xCFFull) || !valid_memory_type(v & 0xFF)) return r;
      s.*(e->field) = v;
      break;
    case W::MtrrFixed:
      if (!valid_fixed(v)) return r;
      s.mtrr_fixed[fixed_index(msr)] = v;
      break;
    case W::MtrrVar:
      if (!valid_var(f, msr - msr::kMtrrPhysBase0, v)) return r;
      s.mtrr_var[msr - msr::kMtrrPhysBase0] = v;
      break;
  }
  r.ok = true;
  r.switched = e->switched;
  return r;
}

}  // namespace mamori::vcpu
