#include "vmm/vm/inject.hpp"
#include "vmm/vm/vmx_insn.hpp"
#include "vmx/event_injection.hpp"

namespace mamori::vm {
using vmx::InterruptionInfo;
using vmx::VmcsField;

void next_rip(uint64_t rip) {
  vmwrite<VmcsField::guest_rip>(rip);
  constexpr uint32_t kBlockingBySti = 1u << 0, kBlockingByMovSs = 1u << 1;
  uint32_t s = vmread<VmcsField::guest_interruptibility_state>();
  if (s & (kBlockingBySti | kBlockingByMovSs))
    vmwrite<VmcsField::guest_interruptibility_state>(s & ~(kBlockingBySti | kBlockingByMovSs));
}
void next_rip(const vmx::ExitInfo& e) { next_rip(vmread<VmcsField::guest_rip>() + e.instruction_length); }

void inject_hw_exception(uint8_t vector, bool error_code, uint32_t code) {
  vmwrite<VmcsField::entry_interruption_info>(
      InterruptionInfo::make(vector, InterruptionInfo::Type::hardware_exception, error_code).raw);
  if (error_code) vmwrite<VmcsField::entry_exception_error_code>(code);
}

uint64_t guest_visible_cr4() {
  uint64_t mask = vmread<VmcsField::cr4_guest_host_mask>();
  return (vmread<VmcsField::guest_cr4>() & ~mask) | (vmread<VmcsField::cr4_read_shadow>() & mask);
}

}  // namespace mamori::vm
