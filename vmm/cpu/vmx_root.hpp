// Entering and leaving VMX root operation on this CPU (SDM 3C §24.7,
// §24.8 "Enabling and Entering VMX Operation", §24.11 VMXON region).
#pragma once
#include <stdint.h>

namespace mamori::cpu_vmx {

struct RawCapabilities;  // raw IA32_VMX_* MSR values, see vmx_root.cpp

// Checks CPUID and IA32_FEATURE_CONTROL (locking it if the firmware left
// it unlocked), adjusts CR0/CR4 to the VMX fixed bits, executes VMXON and
// VMXOFF. Writes a one-line verdict into this CPU's PerCpu.vmx_report and
// logs every step. verbose: also print the raw capability MSRs (BSP).
bool bring_up_this_cpu(bool verbose);

}  // namespace mamori::cpu_vmx
