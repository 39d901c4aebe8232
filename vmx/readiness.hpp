// Is this CPU good enough for mamori? Judges a decoded VmxCapabilities
// against what mamori needs, and IA32_FEATURE_CONTROL (SDM Vol. 3C §24.7
// "Enabling and Entering VMX Operation"). Every finding is a sentence for
// the console; "required" findings stop VMX bring-up, warnings do not.
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/control_compute.hpp"

namespace mamori::vmx {

enum class Severity : uint8_t { required, warning, info };

struct Finding {
  Severity severity;
  const char* text;  // static string, e.g. "EPT: 1 GiB pages not supported (guests use 2 MiB pages)"
  bool has_control = false;  // text is about this control bit (format_finding names it)
  ControlBit control = {ControlKind::pin, 0};
};

struct Readiness {
  static constexpr int kMax = 32;
  Finding findings[kMax];
  int count = 0;
  bool ready() const;          // no "required" finding
  int count_of(Severity s) const;
  bool mentions(const char* text_prefix) const;  // for tests and the system test
  void add(Severity s, const char* text);
  void add(Severity s, const char* text, ControlBit control);
};

// What mamori requires (hard): CPUID VMX; VMCS size <= 4 KiB and WB;
// secondary controls; EPT with a 4-level walk, WB and UC memory types and
// INVEPT (single- or all-context); unrestricted guest; VMX-preemption timer;
// MSR and I/O bitmaps; HLT exiting; external-interrupt and NMI exiting;
// load/save IA32_EFER on entry/exit; host address-space size; activity state
// HLT; and, by construction, every control mamori_control_request()
// requires (so a "ready" CPU always gets ComputedControls::ok()). Warnings:
// no 1 GiB or 2 MiB EPT pages, no VPID/INVVPID, no EPT A/D bits, no
// IA-32e mode guests; notes: no TRUE control MSRs.
Readiness evaluate_readiness(const VmxCapabilities& caps);
// The same, for another set of required controls (tests, future guests).
Readiness evaluate_readiness(const VmxCapabilities& caps, const ControlRequest& request);

// IA32_FEATURE_CONTROL (MSR 0x3A): bit 0 lock, bit 1 VMX inside SMX,
// bit 2 VMX outside SMX. VMXON outside SMX #GPs unless lock=1 and bit 2=1.
struct FeatureControlVerdict {
  enum class Action : uint8_t {
    no_vmx,          // CPUID.1:ECX.VMX = 0: nothing to do, say so
    ready,           // locked with VMX outside SMX enabled
    lock_and_enable, // unlocked: WRMSR(0x3A, value_to_write) then VMXON
    locked_off,      // locked with VMX outside SMX disabled: refuse
  };
  Action action;
  uint64_t value_to_write;  // only for lock_and_enable: old value | bits 0 and 2
  const char* message;
};
FeatureControlVerdict evaluate_feature_control(bool cpuid_vmx, uint64_t feature_control);

namespace feature_control {
constexpr uint64_t lock = 1ull << 0;
constexpr uint64_t vmx_inside_smx = 1ull << 1;
constexpr uint64_t vmx_outside_smx = 1ull << 2;
}  // namespace feature_control

}  // namespace mamori::vmx
