// What a guest's CPUID says (docs/guest-abi.md, "CPUID"): the host's
// answer per leaf and sub-leaf, reduced to what the VMM virtualises, plus
// the leaves the VMM states itself (topology, time, the hypervisor ABI).
// Pure: the host's CPUID comes through a CpuidSource, the guest's
// configuration and its dynamic state (CR4, XSAVE area size) as values, so
// every rule is host-tested (tests/unit/vcpu).
//
// Rules (SDM Vol. 2A, CPUID, Tables 3-8 and 3-10; each rule in the .cpp):
// - no VMX, SMX, MONITOR/MWAIT, PDCM, PMU (leaf 0AH zero), TSC_ADJUST,
//   APERF/MPERF, EPB/HWP, thermal and power MSRs, XSAVES/XFD, TSX (RTM,
//   HLE), Intel PT, SGX, RDT, PCONFIG, WAITPKG, CET, Key Locker: their MSRs
//   or instructions are not virtualised;
// - x2APIC, TSC-deadline, APIC, MTRR, MCE/MCA, hypervisor bit: set (the
//   virtual LAPIC devices/lapic implements the first two, the MSR table
//   vmm/vcpu/msr_table the others);
// - leaf 1 EBX, 4, 0BH and 1FH: N vCPUs as N cores of one thread each,
//   x2APIC id = the vCPU's APIC id;
// - 15H/16H and 40000010H: the guest's TSC rate and the APIC timer rate
//   (the core crystal clock: Linux takes its LAPIC timer period from 15H);
// - 0DH: only the XCR0 components the VMM switches (vmm/arch/fpu.hpp);
// - 40000000H/40000001H: the mamori ABI (signature, version, guest id).
#pragma once
#include <stdint.h>

namespace mamori::vcpu {

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool operator==(const CpuidRegs&) const = default;
};

// The host CPU's answer (the VMM executes CPUID; tests give a table).
class CpuidSource {
 public:
  virtual CpuidRegs query(uint32_t leaf, uint32_t subleaf) const = 0;

 protected:
  ~CpuidSource() = default;
};

// Fixed for a guest's life.
struct CpuidConfig {
  uint64_t tsc_hz = 0;          // the guest's TSC rate
  uint64_t apic_timer_hz = 0;   // the virtual LAPIC timer's base clock (devices/lapic Config::timer_hz)
  uint32_t vcpu_count = 1;
  uint32_t apic_id = 0;         // this vCPU's (x2)APIC id
  uint32_t guest_id = 0;        // CPUID 40000001H EBX
  uint64_t xsave_mask = 3;      // XCR0 components the VMM switches (arch::fpu::mask())
  uint32_t xsave_bytes_all = 0; // standard-format area for all of them (arch::fpu::area_bytes())
  bool rdtscp = false;          // the VMCS enables RDTSCP (and RDPID)
  bool invpcid = false;         // the VMCS enables INVPCID
};

// What the guest has done since (read on every CPUID).
struct CpuidGuestState {
  uint64_t cr4 = 0;                 // as the guest reads it (OSXSAVE, PKE)
  uint32_t xsave_bytes_current = 0; // standard-format area for its XCR0 (arch::fpu::area_bytes_for)
  uint64_t xcr0 = 1;                // its XCR0 (0DH sub-leaf 1 EBX: the compacted size for it)
};

// The hypervisor ABI (docs/guest-abi.md).
inline constexpr uint32_t kCpuidHvBase = 0x40000000;
inline constexpr uint32_t kCpuidHvInfo = 0x40000001;
inline constexpr uint32_t kCpuidHvTiming = 0x40000010;  // the highest hypervisor leaf
inline constexpr uint32_t kCpuidHvLast = 0x4FFFFFFF;
inline constexpr uint32_t kHvAbiVersion = 1;
// EBX:ECX:EDX of 40000000H spell "mamoriVMMabi" (little-endian words).
inline constexpr char kHvSignature[] = "mamoriVMMabi";
constexpr uint32_t hv_signature_word(unsigned i) {
  return static_cast<uint32_t>(static_cast<uint8_t>(kHvSignature[4 * i])) |
         static_cast<uint32_t>(static_cast<uint8_t>(kHvSignature[4 * i + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(kHvSignature[4 * i + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(kHvSignature[4 * i + 3])) << 24;
}
static_assert(hv_signature_word(0) == 0x6f6d616d);  // "mamo"

// The guest's answer for CPUID with EAX = leaf, ECX = subleaf.
CpuidRegs guest_cpuid(const CpuidSource& host, const CpuidConfig& cfg, const CpuidGuestState& st, uint32_t leaf,
                      uint32_t subleaf);

}  // namespace mamori::vcpu
