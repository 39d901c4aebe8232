#include "vmx/exit_reason.hpp"

namespace mamori::vmx {
namespace {
struct ReasonName {
  uint16_t number;
  const char* name;
};
constexpr ReasonName kReasons[] = {
#define MAMORI_X(name, num) {num, #name},
    MAMORI_EXIT_REASONS(MAMORI_X)
#undef MAMORI_X
};

// Table 31-1, in the SDM's words.
constexpr const char* kErrors[] = {
    /* 0 */ "no error",
    /* 1 */ "VMCALL executed in VMX root operation",
    /* 2 */ "VMCLEAR with invalid physical address",
    /* 3 */ "VMCLEAR with VMXON pointer",
    /* 4 */ "VMLAUNCH with non-clear VMCS",
    /* 5 */ "VMRESUME with non-launched VMCS",
    /* 6 */ "VMRESUME after VMXOFF",
    /* 7 */ "VM entry with invalid control field(s)",
    /* 8 */ "VM entry with invalid host-state field(s)",
    /* 9 */ "VMPTRLD with invalid physical address",
    /* 10 */ "VMPTRLD with VMXON pointer",
    /* 11 */ "VMPTRLD with incorrect VMCS revision identifier",
    /* 12 */ "VMREAD/VMWRITE from/to unsupported VMCS component",
    /* 13 */ "VMWRITE to read-only VMCS component",
    /* 14 */ "reserved",
    /* 15 */ "VMXON executed in VMX root operation",
    /* 16 */ "VM entry with invalid executive-VMCS pointer",
    /* 17 */ "VM entry with non-launched executive VMCS",
    /* 18 */ "VM entry with executive-VMCS pointer not VMXON pointer",
    /* 19 */ "VMCALL with non-clear VMCS",
    /* 20 */ "VMCALL with invalid VM-exit control fields",
    /* 21 */ "reserved",
    /* 22 */ "VMCALL with incorrect MSEG revision identifier",
    /* 23 */ "VMXOFF under dual-monitor treatment of SMIs and SMM",
    /* 24 */ "VMCALL with invalid SMM-monitor features",
    /* 25 */ "VM entry with invalid VM-execution control fields in executive VMCS",
    /* 26 */ "VM entry with events blocked by MOV SS",
    /* 27 */ "reserved",
    /* 28 */ "invalid operand to INVEPT/INVVPID",
};
}  // namespace

const char* exit_reason_name(uint32_t basic) {
  for (const auto& r : kReasons)
    if (r.number == basic) return r.name;
  return "unknown";
}
const char* exit_reason_name(ExitReason r) { return exit_reason_name(static_cast<uint32_t>(r)); }

const char* vm_instruction_error_text(uint32_t number) {
  if (number < sizeof(kErrors) / sizeof(kErrors[0])) return kErrors[number];
  return "unknown VM-instruction error";
}

}  // namespace mamori::vmx
