// Real VMX capability MSR values, one table per CPU. The only place these
// numbers live: when the VMM prints the raw MSRs on boot, update here.
//
// Bochs sets were read from the emulator itself, not hand-derived: Debian's
// bochs 2.7+dfsg-4+deb12u1 booting bochs_msr_dump/dump.S (run
// `bochs_msr_dump/run.sh MODEL`), which RDMSRs 0x3A and 0x480-0x491 and
// prints them on port 0xE9. They agree with Bochs's source
// (init_ept_vpid_capabilities(): EPT_VPID_CAP = 0x06114141, | bit 17 if the
// model has 1G pages, | bit 21 with EPT A/D, | 0xF01 << 32 with VPID;
// init_vmfunc_capabilities(): VMFUNC bit 0 with EPTP switching) and the
// cpudb feature sets: corei7_skylake-x has 1G pages, EPT A/D and VMFUNC
// (0x06334141, 0x491 = 1); corei7_ivy_bridge_3770K has none of them
// (0x06114141, no 0x491, no "enable VM functions" secondary control).
//
// The real-hardware set is an Intel Core i7 "Coffee Lake" (CPUID.1:EAX =
// 0x000906EA, 6 cores / 12 threads), as logged by VirtualBox ("HM:
// MSR_IA32_VMX_..." lines of a VBox.log committed to a public GitHub
// repository, found through our code search, which does not record which
// repository); the same TRUE_*, MISC,
// VMCS_ENUM, ENTRY and EXIT values appear in the VBox.log posted in
// https://github.com/myspaghetti/macos-virtualbox/issues/224 .
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/msr.hpp"

namespace mamori::vmx::testdata {

struct MsrSet {
  const char* name;
  uint32_t cpuid1_ecx;
  unsigned maxphyaddr;  // CPUID.80000008H:EAX[7:0] (Bochs: measured; Coffee Lake: VBox.log "physical address width is 39 bits")
  struct {
    uint32_t index;
    uint64_t value;
  } msrs[20];
};

// Bochs 2.7, cpu: model=corei7_skylake_x
inline constexpr MsrSet kBochsSkylakeX = {
    "bochs-corei7_skylake_x", 0x77FAF3BF, 40,
    {{0x03A, 0x0000000000000005},
     {0x480, 0x00D810000000002B},
     {0x481, 0x0000007F00000016},
     {0x482, 0xF7F9FFFE0401E172},
     {0x483, 0x007FFFFF00036DFF},
     {0x484, 0x0000FFFF000011FF},
     {0x485, 0x00000000600401E0},
     {0x486, 0x0000000080000021},
     {0x487, 0x00000000FFFFFFFF},
     {0x488, 0x0000000000002000},
     {0x489, 0x00000000003727FF},
     {0x48A, 0x0000000000000034},
     {0x48B, 0x02177FFF00000000},
     {0x48C, 0x00000F0106334141},
     {0x48D, 0x0000007F00000016},
     {0x48E, 0xF7F9FFFE04006172},
     {0x48F, 0x007FFFFF00036DFB},
     {0x490, 0x0000FFFF000011FB},
     {0x491, 0x0000000000000001},
     {0, 0}}};

// Bochs 2.7, cpu: model=corei7_ivy_bridge_3770k (0x491 does not exist: #GP)
inline constexpr MsrSet kBochsIvyBridge = {
    "bochs-corei7_ivy_bridge_3770k", 0x77BAE3BF, 40,
    {{0x03A, 0x0000000000000005},
     {0x480, 0x00D810000000002B},
     {0x481, 0x0000007F00000016},
     {0x482, 0xF7F9FFFE0401E172},
     {0x483, 0x007FFFFF00036DFF},
     {0x484, 0x0000FFFF000011FF},
     {0x485, 0x00000000000401E0},
     {0x486, 0x0000000080000021},
     {0x487, 0x00000000FFFFFFFF},
     {0x488, 0x0000000000002000},
     {0x489, 0x00000000001727FF},
     {0x48A, 0x0000000000000034},
     {0x48B, 0x000008FF00000000},
     {0x48C, 0x00000F0106114141},
     {0x48D, 0x0000007F00000016},
     {0x48E, 0xF7F9FFFE04006172},
     {0x48F, 0x007FFFFF00036DFB},
     {0x490, 0x0000FFFF000011FB},
     {0, 0}}};

// Intel Core i7 Coffee Lake (CPUID 0x000906EA), real hardware (see above).
inline constexpr MsrSet kCoffeeLake = {
    "intel-coffee-lake-906ea", 0x7FFAFBBF, 39,
    {{0x03A, 0x0000000000020005},
     {0x480, 0x00DA040000000004},
     {0x481, 0x0000007F00000016},
     {0x482, 0xFFF9FFFE0401E172},
     {0x483, 0x01FFFFFF00036DFF},
     {0x484, 0x0003FFFF000011FF},
     {0x485, 0x000000007004C1E7},
     {0x486, 0x0000000080000021},
     {0x487, 0x00000000FFFFFFFF},
     {0x488, 0x0000000000002000},
     {0x489, 0x00000000003727FF},
     {0x48A, 0x000000000000002E},
     {0x48B, 0x005FBCFF00000000},
     {0x48C, 0x00000F0106734141},
     {0x48D, 0x0000007F00000016},
     {0x48E, 0xFFF9FFFE04006172},
     {0x48F, 0x01FFFFFF00036DFB},
     {0x490, 0x0003FFFF000011FB},
     {0x491, 0x0000000000000001},
     {0, 0}}};

// Intel Core i7 "Ivy Bridge" (CPUID.1:EAX = 0x000306A9, 4 cores / 8 threads,
// the real counterpart of Bochs's corei7_ivy_bridge_3770k), real hardware,
// from the "HM: MSR_IA32_VMX_..." lines of another VirtualBox VBox.log in a
// public GitHub repository (same search, repository not recorded). Its secondary controls (0x8FF) and EPT/VPID capabilities
// (0xF0106114141) are exactly Bochs's Ivy Bridge model's. MAXPHYADDR is not
// in that log: 36 is the Ivy Bridge client value (assumed).
inline constexpr MsrSet kRealIvyBridge = {
    "intel-ivy-bridge-306a9", 0x7FBAE3FF, 36,
    {{0x03A, 0x0000000000000005},
     {0x480, 0x00DA040000000010},
     {0x481, 0x0000007F00000016},
     {0x482, 0xFFF9FFFE0401E172},
     {0x483, 0x007FFFFF00036DFF},
     {0x484, 0x0000FFFF000011FF},
     {0x485, 0x00000000100401E5},
     {0x486, 0x0000000080000021},
     {0x487, 0x00000000FFFFFFFF},
     {0x488, 0x0000000000002000},
     {0x489, 0x00000000001767FF},
     {0x48A, 0x000000000000002A},
     {0x48B, 0x000008FF00000000},
     {0x48C, 0x00000F0106114141},
     {0x48D, 0x0000007F00000016},
     {0x48E, 0xFFF9FFFE04006172},
     {0x48F, 0x007FFFFF00036DFB},
     {0x490, 0x0000FFFF000011FB},
     {0, 0}}};

inline constexpr const MsrSet* kAllSets[] = {&kBochsSkylakeX, &kBochsIvyBridge, &kCoffeeLake,
                                             &kRealIvyBridge};
inline constexpr int kSetCount = sizeof(kAllSets) / sizeof(kAllSets[0]);

// Build RawVmxMsrs the way the VMM does: in index order, asking
// msr_present() before each read (so absent MSRs are never "read").
inline RawVmxMsrs raw_from(const MsrSet& s) {
  RawVmxMsrs r;
  r.cpuid_vmx = (s.cpuid1_ecx >> 5) & 1;
  for (uint32_t idx = 0x3A; idx <= 0x491; idx = (idx == 0x3A) ? 0x480 : idx + 1) {
    if (!msr_present(r, idx)) continue;
    for (const auto& m : s.msrs)
      if (m.index == idx && (m.index != 0 || m.value != 0)) r.set(idx, m.value);
  }
  return r;
}

}  // namespace mamori::vmx::testdata
