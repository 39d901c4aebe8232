// Everything the exit dispatcher needs about one VM exit, read once from the
// VM-exit information fields (SDM Vol. 3C §25.9 "VM-Exit Information
// Fields", §28.2 "Recording VM-Exit Information") and offered typed.
// Header-only and pure: the VMM passes its VMREAD as a callable.
#pragma once
#include <stdint.h>

#include "vmx/exit_qualification.hpp"
#include "vmx/exit_reason.hpp"
#include "vmx/vmcs_field.hpp"

namespace mamori::vmx {

struct ExitInfo {
  ExitReasonField reason{0};
  uint64_t qualification = 0;         // §28.2.1, meaning depends on reason
  uint32_t instruction_length = 0;    // §28.2.4 (for instruction-caused exits)
  InstructionInfo instruction_info{0};  // §28.2.5
  uint64_t guest_linear_address = 0;  // valid for some exits (§28.2.1)
  uint64_t guest_physical_address = 0;  // EPT violation / misconfiguration
  InterruptionInfo interruption{0};   // exit interruption information (§25.9.2)
  uint32_t interruption_error_code = 0;
  InterruptionInfo idt_vectoring{0};  // event being delivered when the exit happened (§25.9.3)
  uint32_t idt_vectoring_error_code = 0;
  uint32_t vm_instruction_error = 0;  // after VMfailValid (§31.4)

  ExitReason basic() const { return reason.basic(); }
  // Typed views of the qualification; use the one matching basic().
  CrAccessQualification cr_access() const { return {qualification}; }
  IoQualification io() const { return {qualification}; }
  EptViolationQualification ept_violation() const { return {qualification}; }
  MovDrQualification mov_dr() const { return {qualification}; }
  DebugQualification debug() const { return {qualification}; }
  TaskSwitchQualification task_switch() const { return {qualification}; }
  ApicAccessQualification apic_access() const { return {qualification}; }
};

// The read-only fields ExitInfo is built from.
inline constexpr VmcsField kExitInfoFields[] = {
    VmcsField::exit_reason,
    VmcsField::exit_qualification,
    VmcsField::exit_instruction_length,
    VmcsField::exit_instruction_info,
    VmcsField::guest_linear_address,
    VmcsField::guest_physical_address,
    VmcsField::exit_interruption_info,
    VmcsField::exit_interruption_error_code,
    VmcsField::idt_vectoring_info,
    VmcsField::idt_vectoring_error_code,
    VmcsField::vm_instruction_error,
};

// read(VmcsField) -> uint64_t, e.g. the VMM's vmread wrapper or a VmcsImage.
template <class Read>
ExitInfo read_exit_info(Read&& read) {
  ExitInfo e;
  e.reason = {static_cast<uint32_t>(read(VmcsField::exit_reason))};
  e.qualification = read(VmcsField::exit_qualification);
  e.instruction_length = static_cast<uint32_t>(read(VmcsField::exit_instruction_length));
  e.instruction_info = {static_cast<uint32_t>(read(VmcsField::exit_instruction_info))};
  e.guest_linear_address = read(VmcsField::guest_linear_address);
  e.guest_physical_address = read(VmcsField::guest_physical_address);
  e.interruption = {static_cast<uint32_t>(read(VmcsField::exit_interruption_info))};
  e.interruption_error_code = static_cast<uint32_t>(read(VmcsField::exit_interruption_error_code));
  e.idt_vectoring = {static_cast<uint32_t>(read(VmcsField::idt_vectoring_info))};
  e.idt_vectoring_error_code = static_cast<uint32_t>(read(VmcsField::idt_vectoring_error_code));
  e.vm_instruction_error = static_cast<uint32_t>(read(VmcsField::vm_instruction_error));
  return e;
}

}  // namespace mamori::vmx
