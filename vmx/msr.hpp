// MSR indices used by VMX set-up (Intel SDM Vol. 4 "Model-Specific
// Registers", and Vol. 3D App. A "VMX Capability Reporting Facility").
#pragma once
#include <stdint.h>

namespace mamori::vmx::msr {
constexpr uint32_t ia32_feature_control = 0x03A;
constexpr uint32_t ia32_vmx_basic = 0x480;             // A.1
constexpr uint32_t ia32_vmx_pinbased_ctls = 0x481;     // A.3.1
constexpr uint32_t ia32_vmx_procbased_ctls = 0x482;    // A.3.2
constexpr uint32_t ia32_vmx_exit_ctls = 0x483;         // A.4
constexpr uint32_t ia32_vmx_entry_ctls = 0x484;        // A.5
constexpr uint32_t ia32_vmx_misc = 0x485;              // A.6
constexpr uint32_t ia32_vmx_cr0_fixed0 = 0x486;        // A.7
constexpr uint32_t ia32_vmx_cr0_fixed1 = 0x487;
constexpr uint32_t ia32_vmx_cr4_fixed0 = 0x488;        // A.8
constexpr uint32_t ia32_vmx_cr4_fixed1 = 0x489;
constexpr uint32_t ia32_vmx_vmcs_enum = 0x48A;         // A.9
constexpr uint32_t ia32_vmx_procbased_ctls2 = 0x48B;   // A.3.3
constexpr uint32_t ia32_vmx_ept_vpid_cap = 0x48C;      // A.10
constexpr uint32_t ia32_vmx_true_pinbased_ctls = 0x48D;
constexpr uint32_t ia32_vmx_true_procbased_ctls = 0x48E;
constexpr uint32_t ia32_vmx_true_exit_ctls = 0x48F;
constexpr uint32_t ia32_vmx_true_entry_ctls = 0x490;
constexpr uint32_t ia32_vmx_vmfunc = 0x491;            // A.11
constexpr uint32_t ia32_efer = 0xC0000080;
constexpr uint32_t ia32_pat = 0x277;
}  // namespace mamori::vmx::msr
