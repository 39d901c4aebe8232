// The MSRs a guest may read and write through RDMSR/WRMSR exits, as one
// declarative table (docs/guest-abi.md, "MSRs"): for each, where a read
// gets its value, what a write may do, and the SDM section that says so.
// Every MSR not in the table gets #GP(0), as an MSR the CPU does not have
// (SDM Vol. 2B, RDMSR/WRMSR: "If ECX specifies a reserved or
// unimplemented MSR address, #GP(0)").
//
// Not here: MSRs whose state lives in the VMCS and that the MSR bitmap
// passes through (EFER, PAT, FS/GS base, SYSENTER_*: vmm/vm/guest_create.cpp),
// and the virtual local APIC's MSRs (IA32_APIC_BASE 0x1B, IA32_TSC_DEADLINE
// 0x6E0, the x2APIC range 0x800-0x8FF): devices/lapic answers those,
// dispatched before these handlers run.
//
// Pure: per-guest values live in an MsrState the VMM holds per guest
// (vmm/vm/vcpu_msrs.hpp), what the host CPU offers in MsrFeatures; the VMM
// switches the physical MSRs marked `switched` (vmm/vm/msrs.cpp).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vcpu {

// MSR numbers (SDM Vol. 4, Table 2-2 "IA-32 Architectural MSRs").
namespace msr {
inline constexpr uint32_t kTsc = 0x10, kPlatformId = 0x17, kFeatureControl = 0x3A, kSpecCtrl = 0x48,
                          kPredCmd = 0x49, kBiosSignId = 0x8B, kPlatformInfo = 0xCE, kMperf = 0xE7, kAperf = 0xE8,
                          kMtrrCap = 0xFE, kArchCapabilities = 0x10A, kMcgCap = 0x179, kMcgStatus = 0x17A,
                          kMiscEnable = 0x1A0, kMtrrPhysBase0 = 0x200, kMtrrPhysMask7 = 0x20F,
                          kMtrrFix64k00000 = 0x250, kMtrrFix16k80000 = 0x258, kMtrrFix16kA0000 = 0x259,
                          kMtrrFix4kC0000 = 0x268, kMtrrFix4kF8000 = 0x26F, kMtrrDefType = 0x2FF;
inline constexpr uint32_t kStar = 0xC0000081, kLstar = 0xC0000082, kCstar = 0xC0000083, kSfmask = 0xC0000084,
                          kKernelGsBase = 0xC0000102, kTscAux = 0xC0000103;
}  // namespace msr

inline constexpr unsigned kMtrrVariable = 8;   // IA32_MTRRCAP.VCNT
inline constexpr unsigned kMtrrFixed = 11;     // 0x250, 0x258, 0x259, 0x268-0x26F
inline constexpr uint64_t kMtrrCap = 0x508;    // WC (bit 10), fixed ranges (bit 8), 8 variable ranges
inline constexpr uint64_t kMtrrDefTypeInit = 0x806;  // E (bit 11), FE (bit 10), default type WB
inline constexpr uint64_t kMtrrFixedWb = 0x0606060606060606ull;
// IA32_MISC_ENABLE as the guest first reads it: fast strings (bit 0), BTS
// and PEBS unavailable (bits 11, 12: there is no debug store).
inline constexpr uint64_t kMiscEnableInit = (1ull << 0) | (1ull << 11) | (1ull << 12);
inline constexpr uint64_t kBiosSignId = 1ull << 32;  // microcode revision 1 in EDX (as KVM reports)

// What the host CPU has (read once by the VMM) and what the guest is told.
struct MsrFeatures {
  bool ibrs_ibpb = false;          // CPUID.(7,0):EDX[26]: IA32_SPEC_CTRL.IBRS, IA32_PRED_CMD
  bool stibp = false;              // CPUID.(7,0):EDX[27]: IA32_SPEC_CTRL.STIBP
  bool ssbd = false;               // CPUID.(7,0):EDX[31]: IA32_SPEC_CTRL.SSBD
  bool arch_capabilities = false;  // CPUID.(7,0):EDX[29]
  uint64_t host_arch_capabilities = 0;  // the host's IA32_ARCH_CAPABILITIES
  bool tsc_aux = false;            // the guest's CPUID offers RDTSCP or RDPID
  uint64_t tsc_hz = 0;             // the guest's TSC rate (MSR_PLATFORM_INFO ratio)
  unsigned phys_bits = 36;         // CPUID.80000008H:EAX[7:0] (MTRR reserved bits)
  unsigned virt_bits = 48;         // CPUID.80000008H:EAX[15:8] (canonical addresses)
};

// A guest's MSR values (its reset state as initialised).
struct MsrState {
  int64_t tsc_offset = 0;          // guest TSC - host TSC (the VMCS has no TSC offsetting yet: 0)
  uint64_t mtrr_def_type = kMtrrDefTypeInit;
  uint64_t mtrr_fixed[kMtrrFixed] = {kMtrrFixedWb, kMtrrFixedWb, kMtrrFixedWb, kMtrrFixedWb,
                                     kMtrrFixedWb, kMtrrFixedWb, kMtrrFixedWb, kMtrrFixedWb,
                                     kMtrrFixedWb, kMtrrFixedWb, kMtrrFixedWb};
  uint64_t mtrr_var[2 * kMtrrVariable] = {};  // PHYSBASEn, PHYSMASKn
  uint64_t misc_enable = kMiscEnableInit;
  uint64_t mcg_status = 0;
  uint64_t spec_ctrl = 0;
  uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0, kernel_gs_base = 0, tsc_aux = 0;
};

// Where a read's value comes from.
enum class ReadRule : uint8_t {
  Gp,            // #GP(0): write-only or hidden
  Constant,      // entry.value
  Tsc,           // host TSC + tsc_offset
  Field,         // the MsrState field
  PlatformInfo,  // maximum non-turbo ratio (bits 15:8) from the guest's TSC rate
  ArchCap,       // the host's value, limited to the bits that hold for the guest
  MtrrFixed,
  MtrrVar,
};
// What a write may do.
enum class WriteRule : uint8_t {
  Gp,           // read-only (or hidden): #GP(0)
  Ignore,       // accepted, no effect
  Store,        // any value
  Canonical,    // an address: non-canonical is #GP(0)
  Mask,         // bits outside entry.value are reserved: #GP(0)
  SpecCtrl,     // only the controls the CPU has
  PredCmd,      // IBPB (bit 0) only: the VMM issues it
  MiscEnable,   // only the writable bits; the others must be written as read
  MtrrDefType,
  MtrrFixed,
  MtrrVar,
};
// When the MSR exists for a guest.
enum class Presence : uint8_t { Always, SpecCtrl, Ibpb, ArchCap, TscAux };

struct MsrEntry {
  uint32_t first, last;            // inclusive range
  const char* name;
  ReadRule read;
  WriteRule write;
  uint64_t value;                  // Constant: the value; Mask: the writable bits
  uint64_t MsrState::*field;       // Field / Store / Canonical / Mask / SpecCtrl / MiscEnable / MtrrDefType
  Presence presence;
  bool switched;                   // the guest's value is in the physical MSR while it runs
  const char* cite;
};

// The table (for documentation and tests) and a lookup: nullptr = #GP.
const MsrEntry* msr_table(size_t* count);
const MsrEntry* find_msr(const MsrFeatures& f, uint32_t msr);

struct MsrResult {
  bool ok = false;        // false: inject #GP(0)
  uint64_t value = 0;     // a read's value
  bool ibpb = false;      // a write that asks the VMM to issue IBPB (WRMSR IA32_PRED_CMD, 1)
  bool switched = false;  // a write changed a value the VMM keeps in the physical MSR
};

MsrResult msr_read(const MsrFeatures& f, const MsrState& s, uint32_t msr, uint64_t host_tsc);
MsrResult msr_write(const MsrFeatures& f, MsrState& s, uint32_t msr, uint64_t value);

// SDM Vol. 3A §11.11.1: UC 0, WC 1, WT 4, WP 5, WB 6 (2, 3 and 7+ reserved).
constexpr bool valid_memory_type(uint64_t t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

}  // namespace mamori::vcpu
