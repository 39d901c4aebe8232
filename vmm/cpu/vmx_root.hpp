// Entering and leaving VMX root operation on this CPU (SDM 3C §24.7,
// §24.8 "Enabling and Entering VMX Operation", §24.11 VMXON region).
#pragma once
#include <stdint.h>
#include "vmx/capabilities.hpp"

namespace mamori::cpu_vmx {


// Checks CPUID and IA32_FEATURE_CONTROL (locking it if the firmware left
// it unlocked), adjusts CR0/CR4 to the VMX fixed bits, executes VMXON and
// VMXOFF. Writes a one-line verdict into this CPU's PerCpu.vmx_report and
// logs every step. verbose: also print the raw capability MSRs (BSP).
bool bring_up_this_cpu(bool verbose);

// The capability record of the bootstrap processor (all CPUs of a machine
// report the same), or nullptr if it has no usable VMX.
const vmx::VmxCapabilities* capabilities();

// Prints this CPU's capability capture (vmx/capture.hpp) on the console:
// the block a user sends us, read unchanged by the unit tests.
void print_capture();

// Enters VMX root operation on this CPU to run guests (after a successful
// bring_up_this_cpu): CR4.VMXE and VMXON with the CPU's region.
bool enter_root_for_guests();

}  // namespace mamori::cpu_vmx
