// CPUID exits: what the guest's CPUID says (docs/guest-abi.md, "CPUID").
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/vm/exit_handlers.hpp"

namespace mamori::vm {
namespace {
// The guest ABI (docs/guest-abi.md).
constexpr uint32_t kCpuidHvBase = 0x40000000, kCpuidHvInfo = 0x40000001, kCpuidHvLast = 0x4FFFFFFF;
constexpr char kSignature[] = "mamoriVMMabi";  // EBX:ECX:EDX of leaf 0x40000000
constexpr uint32_t signature_word(unsigned i) {
  return static_cast<uint32_t>(static_cast<uint8_t>(kSignature[4 * i])) |
         static_cast<uint32_t>(static_cast<uint8_t>(kSignature[4 * i + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(kSignature[4 * i + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(kSignature[4 * i + 3])) << 24;
}
static_assert(signature_word(0) == 0x6f6d616d);  // "mamo" as CPUID returns it in EBX

constexpr uint32_t kCpuid1EcxVmx = 1u << 5, kCpuid1EcxOsxsave = 1u << 27, kCpuid1EcxHypervisor = 1u << 31;
constexpr uint32_t kCpuid6EcxAperfMperf = 1u << 0;
constexpr uint64_t kCr4Osxsave = 1ull << 18;
constexpr uint32_t kCpuidXsave = 0xD;
}  // namespace

[[gnu::noinline]] ExitAction on_cpuid(Guest& g, const vmx::ExitInfo& e) {
  uint32_t leaf = lo32(g.regs.rax), sub = lo32(g.regs.rcx);
  cpu::CpuidResult r{};
  if (leaf == kCpuidHvBase) {
    r = {kCpuidHvInfo, signature_word(0), signature_word(1), signature_word(2)};
  } else if (leaf == kCpuidHvInfo) {
    r = {kAbiVersion, g.id, 0, 0};
  } else if (leaf > kCpuidHvInfo && leaf <= kCpuidHvLast) {
    r = {};
  } else {
    r = cpu::cpuid(leaf, sub);
    if (leaf == 1) {
      // No nested VT-x; say there is a hypervisor; OSXSAVE mirrors the guest's CR4.
      r.ecx &= ~kCpuid1EcxVmx;
      r.ecx |= kCpuid1EcxHypervisor;
      r.ecx &= ~kCpuid1EcxOsxsave;
      if (guest_visible_cr4() & kCr4Osxsave) r.ecx |= kCpuid1EcxOsxsave;
    } else if (leaf == 6) {
      r.ecx &= ~kCpuid6EcxAperfMperf;  // APERF/MPERF are not virtualised
    } else if (leaf == kCpuidXsave) {
      // Only the components the VMM switches (vmm/arch/fpu.hpp): EDX:EAX
      // of sub-leaf 0 is what XSETBV accepts, EBX the area for the current
      // XCR0, ECX for all of them (SDM 2 CPUID leaf 0DH).
      uint64_t m = arch::fpu::mask();
      if (sub == 0) {
        r = {lo32(m), arch::fpu::area_bytes_for(g.xcr0), arch::fpu::area_bytes(), static_cast<uint32_t>(m >> 32)};
      } else if (sub >= 2 && sub < 63 && !(m & (1ull << sub))) {
        r = {};
      }
    }
  }
  g.regs.rax = r.eax;
  g.regs.rbx = r.ebx;
  g.regs.rcx = r.ecx;
  g.regs.rdx = r.edx;
  next_rip(e);
  return ExitAction::Resume;
}

}  // namespace mamori::vm
