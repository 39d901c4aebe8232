#include "vmm/vcpu/cpuid_policy.hpp"

// Bit numbers are those of SDM Vol. 2A, CPUID, Table 3-8 (leaves), 3-10
// (leaf 1 ECX), 3-11 (leaf 1 EDX) and the leaf 07H, 0DH, 0BH/1FH, 15H,
// 16H and 80000001H descriptions. Feature words are allowlists: a bit the
// VMM does not know stays clear, so a newer CPU's feature whose MSR or
// instruction the VMM does not virtualise never reaches a guest.
namespace mamori::vcpu {
namespace {

constexpr uint32_t bit(unsigned n) { return 1u << n; }

// XCR0 components (SDM Vol. 1 §13.1).
constexpr uint64_t kXcr0Avx = 1ull << 2, kXcr0Mpx = 3ull << 3, kXcr0Avx512 = 7ull << 5, kXcr0Pkru = 1ull << 9,
                   kXcr0Amx = 3ull << 17;
constexpr uint64_t kCr4Osxsave = 1ull << 18, kCr4Pke = 1ull << 22;
constexpr uint32_t kFxsaveBytes = 512;

// Leaf 1 ECX. Kept: SSE3 0, PCLMULQDQ 1, SSSE3 9, FMA 12, CMPXCHG16B 13,
// PCID 17, SSE4.1 19, SSE4.2 20, MOVBE 22, POPCNT 23, AES 25, XSAVE 26,
// AVX 28, F16C 29, RDRAND 30. Hidden: DTES64 2, MONITOR 3, DS-CPL 4, VMX 5
// (no nested VT-x), SMX 6, EIST 7, TM2 8, CNXT-ID 10, SDBG 11, xTPR 14,
// PDCM 15 (no PERF_CAPABILITIES), DCA 18.
constexpr uint32_t k1EcxKeep = bit(0) | bit(1) | bit(9) | bit(12) | bit(13) | bit(17) | bit(19) | bit(20) | bit(22) |
                               bit(23) | bit(25) | bit(26) | bit(28) | bit(29) | bit(30);
constexpr uint32_t k1EcxFma = bit(12), k1EcxX2apic = bit(21), k1EcxTscDeadline = bit(24), k1EcxXsave = bit(26),
                   k1EcxOsxsave = bit(27), k1EcxAvx = bit(28), k1EcxF16c = bit(29), k1EcxHypervisor = bit(31);
// Leaf 1 EDX. Kept: FPU 0, VME 1, DE 2, PSE 3, TSC 4, MSR 5, PAE 6, CX8 8,
// SEP 11, PGE 13, CMOV 15, PAT 16, PSE-36 17, CLFSH 19, MMX 23, FXSR 24,
// SSE 25, SSE2 26, SS 27. Set: MCE 7, APIC 9, MTRR 12, MCA 14 (HTT 28 with
// more than one vCPU). Hidden: PSN 18, DS 21, ACPI 22 (thermal MSRs), TM 29,
// PBE 31.
constexpr uint32_t k1EdxKeep = bit(0) | bit(1) | bit(2) | bit(3) | bit(4) | bit(5) | bit(6) | bit(8) | bit(11) |
                               bit(13) | bit(15) | bit(16) | bit(17) | bit(19) | bit(23) | bit(24) | bit(25) |
                               bit(26) | bit(27);
constexpr uint32_t k1EdxSet = bit(7) | bit(9) | bit(12) | bit(14);
constexpr uint32_t k1EdxHtt = bit(28);

// Leaf 7 sub-leaf 0 EBX. Kept: FSGSBASE 0, BMI1 3, FDP_EXCPTN_ONLY 6,
// SMEP 7, BMI2 8, ERMS 9, FPU CS/DS deprecated 13, RDSEED 18, ADX 19, SMAP
// 20, CLFLUSHOPT 23, CLWB 24, SHA 29; AVX2 5 with AVX; INVPCID 10 when the
// VMCS enables it; MPX 14 with MPX state; AVX-512 16 17 21 26 27 28 30 31
// with AVX-512 state. Hidden: TSC_ADJUST 1 (IA32_TSC_ADJUST is not
// virtualised), SGX 2, HLE 4, RTM 11 (no TSX), RDT-M 12, RDT-A 15, PT 25.
constexpr uint32_t k7EbxKeep = bit(0) | bit(3) | bit(6) | bit(7) | bit(8) | bit(9) | bit(13) | bit(18) | bit(19) |
                               bit(20) | bit(23) | bit(24) | bit(29);
constexpr uint32_t k7EbxAvx2 = bit(5), k7EbxInvpcid = bit(10), k7EbxMpx = bit(14);
constexpr uint32_t k7EbxAvx512 = bit(16) | bit(17) | bit(21) | bit(26) | bit(27) | bit(28) | bit(30) | bit(31);
// Leaf 7 sub-leaf 0 ECX. Kept: PREFETCHWT1 0, UMIP 2, GFNI 8, VAES 9,
// VPCLMULQDQ 10, LA57 16, MAWAU 17-21, CLDEMOTE 25, MOVDIRI 27, MOVDIR64B
// 28; PKU 3 with PKRU state and OSPKE 4 following the guest's CR4.PKE;
// RDPID 22 with RDTSCP enabled; AVX-512 1 6 11 12 14 with AVX-512 state.
// Hidden: WAITPKG 5 (IA32_UMWAIT_CONTROL), CET_SS 7, TME 13, KL 23,
// BUS_LOCK_DETECT 24, ENQCMD 29 (IA32_PASID), SGX_LC 30, PKS 31.
constexpr uint32_t k7EcxKeep = bit(0) | bit(2) | bit(8) | bit(9) | bit(10) | bit(16) | (0x1Fu << 17) | bit(25) |
                               bit(27) | bit(28);
constexpr uint32_t k7EcxPku = bit(3), k7EcxOspke = bit(4), k7EcxRdpid = bit(22);
constexpr uint32_t k7EcxAvx512 = bit(1) | bit(6) | bit(11) | bit(12) | bit(14);
// Leaf 7 sub-leaf 0 EDX. Kept: FSRM 4, MD_CLEAR 10, SERIALIZE 14, and the
// speculation controls whose MSRs the table offers when the CPU has them
// (IBRS/IBPB 26, STIBP 27, ARCH_CAPABILITIES 29, SSBD 31); AVX-512 2 3 8 23
// with AVX-512 state; AMX 22 24 25 with AMX state. Hidden: SGX-KEYS 1,
// UINTR 5, SRBDS_CTRL 9, RTM_ALWAYS_ABORT 11, TSX_FORCE_ABORT 13, Hybrid
// 15, TSXLDTRK 16, PCONFIG 18, Arch LBR 19, CET_IBT 20, L1D_FLUSH 28
// (IA32_FLUSH_CMD), CORE_CAPABILITIES 30.
constexpr uint32_t k7EdxKeep = bit(4) | bit(10) | bit(14) | bit(26) | bit(27) | bit(29) | bit(31);
constexpr uint32_t k7EdxAvx512 = bit(2) | bit(3) | bit(8) | bit(23);
constexpr uint32_t k7EdxAmx = bit(22) | bit(24) | bit(25);
// Leaf 7 sub-leaf 1 EAX: AVX-VNNI 4 (AVX), AVX512_BF16 5 (AVX-512), fast
// zero-length MOVSB 10, fast short STOSB 11, fast short CMPSB/SCASB 12.
constexpr uint32_t k71EaxKeep = bit(10) | bit(11) | bit(12);
constexpr uint32_t k71EaxAvxVnni = bit(4), k71EaxAvx512Bf16 = bit(5);

// Leaf 6 EAX bit 2: ARAT, the APIC timer keeps running in deep C-states
// (the virtual one always does). Everything else (digital thermal sensor,
// turbo, HWP, EPB, APERF/MPERF in ECX) is hidden: those MSRs #GP.
constexpr uint32_t k6EaxArat = bit(2);
// Leaf 0DH sub-leaf 1 EAX: XSAVEOPT 0, XSAVEC 1, XGETBV1 2 kept; XSAVES 3
// (IA32_XSS) and XFD 4 (IA32_XFD) hidden.
constexpr uint32_t kDh1EaxKeep = bit(0) | bit(1) | bit(2);
// 80000001H ECX: LAHF 0, LZCNT 5, PREFETCHW 8; EDX: SYSCALL 11, NX 20,
// 1-GByte pages 26, RDTSCP 27 (when enabled), LM 29.
constexpr uint32_t kExt1EcxKeep = bit(0) | bit(5) | bit(8);
constexpr uint32_t kExt1EdxKeep = bit(11) | bit(20) | bit(26) | bit(29);
constexpr uint32_t kExt1EdxRdtscp = bit(27);
// 80000007H EDX bit 8: invariant TSC (the guest's TSC is the host's plus
// an offset). 80000008H EBX bit 9: WBNOINVD.
constexpr uint32_t kExt7EdxInvariantTsc = bit(8);
constexpr uint32_t kExt8EbxWbnoinvd = bit(9);

constexpr uint32_t kMaxBasic = 0x1F;     // V2 extended topology is the highest leaf stated
constexpr uint32_t kMaxExtended = 0x80000008;

// Bits of an x2APIC id that select the core: N vCPUs need ceil(log2 N).
uint32_t core_shift(uint32_t n) {
  uint32_t s = 0;
  while (s < 31 && (1u << s) < n) ++s;
  return s;
}

uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// Leaf 15H: TSC = crystal * EBX / EAX, crystal in ECX (Hz). Linux takes
// the APIC timer period from the crystal (arch/x86/kernel/tsc.c
// native_calibrate_tsc: lapic_timer_period = crystal_khz * 1000 / HZ), so
// the crystal is the virtual APIC timer's clock. Linux 6.1 computes
// crystal_khz * EBX / EAX in 32 bits: EBX is kept below 2^32 / crystal_khz.
CpuidRegs tsc_leaf(const CpuidConfig& cfg) {
  if (cfg.tsc_hz == 0 || cfg.apic_timer_hz == 0 || cfg.apic_timer_hz > 0xFFFFFFFFu) return {};
  const uint64_t crystal_khz = cfg.apic_timer_hz / 1000 ? cfg.apic_timer_hz / 1000 : 1;
  const uint64_t num_max = 0xFFFFFFFFull / crystal_khz;
  const uint64_t g = gcd(cfg.tsc_hz, cfg.apic_timer_hz);
  uint64_t num = cfg.tsc_hz / g, den = cfg.apic_timer_hz / g;
  if (num > num_max || den > 0xFFFFFFFFull) {
    // The closest ratio with EBX in range: EAX as large as it may be.
    den = num_max * cfg.apic_timer_hz / cfg.tsc_hz;
    if (den == 0) den = 1;
    num = (cfg.tsc_hz * den + cfg.apic_timer_hz / 2) / cfg.apic_timer_hz;
    if (num > num_max) num = num_max;
  }
  return {static_cast<uint32_t>(den), static_cast<uint32_t>(num), static_cast<uint32_t>(cfg.apic_timer_hz), 0};
}

// Leaves 0BH and 1FH: one SMT level of one thread, one core level of N
// cores; EDX is the x2APIC id at every sub-leaf, ECX[7:0] the sub-leaf.
CpuidRegs topology_leaf(const CpuidConfig& cfg, uint32_t sub) {
  constexpr uint32_t kLevelSmt = 1, kLevelCore = 2;
  const uint32_t n = cfg.vcpu_count ? cfg.vcpu_count : 1;
  if (sub == 0) return {0, 1, (kLevelSmt << 8) | 0, cfg.apic_id};
  if (sub == 1) return {core_shift(n), n, (kLevelCore << 8) | 1, cfg.apic_id};
  return {0, 0, sub & 0xFF, cfg.apic_id};
}

CpuidRegs leaf1(const CpuidSource& host, const CpuidConfig& cfg, const CpuidGuestState& st) {
  CpuidRegs r = host.query(1, 0);
  const uint32_t n = cfg.vcpu_count ? cfg.vcpu_count : 1;
  // EBX: brand index and CLFLUSH size as the CPU says; [23:16] addressable
  // logical processor ids; [31:24] initial APIC id.
  r.ebx = (r.ebx & 0xFFFF) | ((1u << core_shift(n)) & 0xFF) << 16 | (cfg.apic_id & 0xFF) << 24;
  const bool xsave = (r.ecx & k1EcxXsave) && cfg.xsave_bytes_all > kFxsaveBytes;
  r.ecx &= k1EcxKeep;
  if (!xsave) r.ecx &= ~k1EcxXsave;
  if (!(cfg.xsave_mask & kXcr0Avx) || !xsave) r.ecx &= ~(k1EcxAvx | k1EcxFma | k1EcxF16c);
  r.ecx |= k1EcxX2apic | k1EcxTscDeadline | k1EcxHypervisor;
  if (xsave && (st.cr4 & kCr4Osxsave)) r.ecx |= k1EcxOsxsave;
  r.edx = (r.edx & k1EdxKeep) | k1EdxSet | (n > 1 ? k1EdxHtt : 0);
  return r;
}

CpuidRegs leaf7(const CpuidSource& host, const CpuidConfig& cfg, const CpuidGuestState& st, uint32_t sub) {
  const uint32_t host_max_sub = host.query(7, 0).eax;
  if (sub > 1 || sub > host_max_sub) return {};
  CpuidRegs h = host.query(7, sub);
  const bool avx = cfg.xsave_mask & kXcr0Avx;
  const bool avx512 = (cfg.xsave_mask & kXcr0Avx512) == kXcr0Avx512;
  if (sub == 1) return {(h.eax & k71EaxKeep) | (avx ? h.eax & k71EaxAvxVnni : 0) | (avx512 ? h.eax & k71EaxAvx512Bf16 : 0),
                        0, 0, 0};
  CpuidRegs r{host_max_sub < 1 ? host_max_sub : 1, 0, 0, 0};
  r.ebx = h.ebx & k7EbxKeep;
  if (avx) r.ebx |= h.ebx & k7EbxAvx2;
  if (cfg.invpcid) r.ebx |= h.ebx & k7EbxInvpcid;
  if ((cfg.xsave_mask & kXcr0Mpx) == kXcr0Mpx) r.ebx |= h.ebx & k7EbxMpx;
  if (avx512) r.ebx |= h.ebx & k7EbxAvx512;
  r.ecx = h.ecx & k7EcxKeep;
  if (cfg.xsave_mask & kXcr0Pkru) {
    r.ecx |= h.ecx & k7EcxPku;
    if ((h.ecx & k7EcxPku) && (st.cr4 & kCr4Pke)) r.ecx |= k7EcxOspke;
  }
  if (cfg.rdtscp) r.ecx |= h.ecx & k7EcxRdpid;
  if (avx512) r.ecx |= h.ecx & k7EcxAvx512;
  r.edx = h.edx & k7EdxKeep;
  if (avx512) r.edx |= h.edx & k7EdxAvx512;
  if ((cfg.xsave_mask & kXcr0Amx) == kXcr0Amx) r.edx |= h.edx & k7EdxAmx;
  return r;
}

// The compacted-format size for `xcr0` (SDM Vol. 1 §13.4.3): the legacy
// region and header, then each enabled component from 2 up, on a 64-byte
// boundary where its sub-leaf's ECX[1] says so. Linux (6.1.y with XSAVEC
// compaction) compares it with its own sum (xstate.c
// paranoid_xstate_size_valid): it must be exact, not an upper bound.
uint32_t compacted_bytes(const CpuidSource& host, uint64_t xcr0) {
  uint32_t end = kFxsaveBytes + 64;
  for (unsigned i = 2; i < 63; ++i) {
    if (!(xcr0 & (1ull << i))) continue;
    const CpuidRegs c = host.query(0xD, i);
    if (c.ecx & 2) end = (end + 63) & ~63u;
    end += c.eax;
  }
  return end;
}

// Leaf 0DH: only the components the VMM switches (vmm/arch/fpu.hpp):
// EDX:EAX of sub-leaf 0 is what XSETBV accepts, EBX the area for the
// current XCR0, ECX for all of them; sub-leaf 1 without XSAVES (no XSS
// components, so EBX is the compacted size for XCR0 alone); sub-leaves of
// other components zero.
CpuidRegs leaf_d(const CpuidSource& host, const CpuidConfig& cfg, const CpuidGuestState& st, uint32_t sub) {
  if (!(host.query(1, 0).ecx & k1EcxXsave) || cfg.xsave_bytes_all <= kFxsaveBytes) return {};
  const uint64_t m = cfg.xsave_mask;
  if (sub == 0)
    return {static_cast<uint32_t>(m), st.xsave_bytes_current, cfg.xsave_bytes_all, static_cast<uint32_t>(m >> 32)};
  if (sub == 1) return {host.query(0xD, 1).eax & kDh1EaxKeep, compacted_bytes(host, st.xcr0 & m), 0, 0};
  if (sub < 63 && (m & (1ull << sub))) return host.query(0xD, sub);
  return {};
}

// Leaf 4: the CPU's caches, shared as N cores of one package say:
// EAX[31:26] addressable core ids - 1, [25:14] threads sharing - 1 (the
// last level shared by all vCPUs, the others private).
CpuidRegs leaf4(const CpuidSource& host, const CpuidConfig& cfg, uint32_t sub) {
  CpuidRegs r = host.query(4, sub);
  if ((r.eax & 0x1F) == 0) return {};
  const uint32_t ids = (1u << core_shift(cfg.vcpu_count ? cfg.vcpu_count : 1)) - 1;
  const uint32_t level = (r.eax >> 5) & 7;
  r.eax = (r.eax & 0x3FFF) | ((level >= 3 ? ids : 0) & 0xFFF) << 14 | (ids & 0x3F) << 26;
  return r;
}

CpuidRegs basic(const CpuidSource& host, const CpuidConfig& cfg, const CpuidGuestState& st, uint32_t leaf,
                uint32_t sub) {
  const uint32_t host_max = host.query(0, 0).eax;
  const bool host_has = leaf <= host_max;
  switch (leaf) {
    case 0: {
      CpuidRegs r = host.query(0, 0);  // vendor string in EBX, EDX, ECX
      r.eax = kMaxBasic;
      return r;
    }
    case 1: return leaf1(host, cfg, st);
    case 2: return host_has ? host.query(2, 0) : CpuidRegs{};  // TLB/cache descriptors
    case 4: return host_has ? leaf4(host, cfg, sub) : CpuidRegs{};
    case 6: return {k6EaxArat, 0, 0, 0};
    case 7: return host_has ? leaf7(host, cfg, st, sub) : CpuidRegs{};
    case 0xB:
    case 0x1F: return topology_leaf(cfg, sub);
    case 0xD: return host_has ? leaf_d(host, cfg, st, sub) : CpuidRegs{};
    case 0x15: return tsc_leaf(cfg);
    case 0x16:  // base and maximum frequency, bus (reference) frequency, MHz
      return {static_cast<uint32_t>(cfg.tsc_hz / 1000000), static_cast<uint32_t>(cfg.tsc_hz / 1000000),
              static_cast<uint32_t>(cfg.apic_timer_hz / 1000000), 0};
    case 0x18: return host_has ? host.query(0x18, sub) : CpuidRegs{};  // address translation parameters
    case 0x1D:
    case 0x1E:  // AMX tile and TMUL information
      return host_has && (cfg.xsave_mask & kXcr0Amx) == kXcr0Amx ? host.query(leaf, sub) : CpuidRegs{};
    // 3 (PSN), 5 (MONITOR/MWAIT), 8, 9 (DCA), 0AH (architectural PMU), 0FH,
    // 10H (RDT), 12H (SGX), 14H (PT), 17H, 19H (Key Locker), 1AH (hybrid),
    // 1BH (PCONFIG), 1CH (arch LBR) and the rest: nothing virtualised.
    default: return {};
  }
}

CpuidRegs extended(const CpuidSource& host, const CpuidConfig& cfg, uint32_t leaf) {
  const uint32_t host_max = host.query(0x80000000, 0).eax;
  const uint32_t max = host_max < kMaxExtended ? host_max : kMaxExtended;
  if (leaf > max) return {};  // the caller answers with the highest basic leaf
  CpuidRegs h = host.query(leaf, 0);
  switch (leaf) {
    case 0x80000000: return {max, 0, 0, 0};
    case 0x80000001:
      return {0, 0, h.ecx & kExt1EcxKeep, (h.edx & kExt1EdxKeep) | (cfg.rdtscp ? h.edx & kExt1EdxRdtscp : 0)};
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:  // processor brand string
    case 0x80000006:  // L2 cache
      return h;
    case 0x80000007: return {0, 0, 0, h.edx & kExt7EdxInvariantTsc};
    case 0x80000008: return {h.eax & 0xFFFF, h.ebx & kExt8EbxWbnoinvd, 0, 0};  // address sizes
    default: return {};
  }
}

}  // namespace

CpuidRegs guest_cpuid(const CpuidSource& host, const CpuidConfig& cfg, const CpuidGuestState& st, uint32_t leaf,
                      uint32_t subleaf) {
  if (leaf >= kCpuidHvBase && leaf <= kCpuidHvLast) {
    switch (leaf) {
      case kCpuidHvBase: return {kCpuidHvTiming, hv_signature_word(0), hv_signature_word(1), hv_signature_word(2)};
      case kCpuidHvInfo: return {kHvAbiVersion, cfg.guest_id, 0, 0};
      // The timing leaf of VMware's proposal (https://lwn.net/Articles/301888/),
      // as VMware and QEMU/KVM (vmware-cpuid-freq) offer it and Linux's
      // ACRN guest reads it (arch/x86/include/asm/acrn.h ACRN_CPUID_TIMING_INFO):
      // EAX = TSC kHz, EBX = APIC bus (timer) kHz.
      case kCpuidHvTiming:
        return {static_cast<uint32_t>(cfg.tsc_hz / 1000), static_cast<uint32_t>(cfg.apic_timer_hz / 1000), 0, 0};
      default: return {};
    }
  }
  // Above the highest basic or extended leaf, Intel CPUs answer with the
  // highest basic leaf (SDM Vol. 2A, CPUID, "If a value entered for
  // CPUID.EAX is higher than the maximum input value ...").
  if (leaf <= kMaxBasic) return basic(host, cfg, st, leaf, subleaf);
  if (leaf >= 0x80000000 && leaf <= kMaxExtended && leaf <= host.query(0x80000000, 0).eax)
    return extended(host, cfg, leaf);
  return basic(host, cfg, st, kMaxBasic, subleaf);
}

}  // namespace mamori::vcpu
