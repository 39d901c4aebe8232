// Computing the five VMX control words from the capability record and the
// controls mamori wants (Intel SDM Vol. 3D App. A.2 "Reserved Controls and
// Default Settings", A.3-A.5). Pure and host-tested.
//
// Per control word k, with the effective capability (TRUE MSR if
// IA32_VMX_BASIC[55], else the legacy MSR; App. A.3.1):
//   value = must_be_one
//         | (required | optional) & may_be_one
//         | default1 & may_be_one & ~avoid     (App. A.2: software that does
//           not ask about a default1 control keeps its default, 1)
//   missing = required & ~may_be_one          → refusal, named
//   forced  = avoid & must_be_one              → reported, kept at 1
// Secondary controls are only used when "activate secondary controls" ends
// up 1 in the primary word; otherwise the secondary word is 0 (A.3.3).
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"

namespace mamori::vmx {

struct ControlRequest {
  uint32_t required[kControlKinds] = {};
  uint32_t optional[kControlKinds] = {};
  uint32_t avoid[kControlKinds] = {};  // prefer 0 (e.g. default1 CR3-load exiting)

  ControlRequest& require(PinCtl c) { return put(required, ControlKind::pin, bit_of(c)); }
  ControlRequest& require(ProcCtl c) { return put(required, ControlKind::proc, bit_of(c)); }
  ControlRequest& require(Proc2Ctl c) { return put(required, ControlKind::proc2, bit_of(c)); }
  ControlRequest& require(ExitCtl c) { return put(required, ControlKind::exit, bit_of(c)); }
  ControlRequest& require(EntryCtl c) { return put(required, ControlKind::entry, bit_of(c)); }
  ControlRequest& prefer(PinCtl c) { return put(optional, ControlKind::pin, bit_of(c)); }
  ControlRequest& prefer(ProcCtl c) { return put(optional, ControlKind::proc, bit_of(c)); }
  ControlRequest& prefer(Proc2Ctl c) { return put(optional, ControlKind::proc2, bit_of(c)); }
  ControlRequest& prefer(ExitCtl c) { return put(optional, ControlKind::exit, bit_of(c)); }
  ControlRequest& prefer(EntryCtl c) { return put(optional, ControlKind::entry, bit_of(c)); }
  ControlRequest& avoid_bit(ProcCtl c) { return put(avoid, ControlKind::proc, bit_of(c)); }
  ControlRequest& avoid_bit(ExitCtl c) { return put(avoid, ControlKind::exit, bit_of(c)); }
  ControlRequest& avoid_bit(EntryCtl c) { return put(avoid, ControlKind::entry, bit_of(c)); }

 private:
  ControlRequest& put(uint32_t* arr, ControlKind k, uint32_t b) {
    arr[static_cast<int>(k)] |= b;
    return *this;
  }
};

// The set mamori asks for (docs/vmx.md explains each):
//   pin:   external-interrupt exiting, NMI exiting, preemption timer (req);
//          virtual NMIs (opt)
//   proc:  HLT exiting, I/O bitmaps, MSR bitmaps, secondary controls,
//          CR8-load and CR8-store exiting (req);
//          MWAIT and MONITOR exiting (opt); avoid CR3-load/store exiting
//   proc2: EPT, unrestricted guest (req); VPID, RDTSCP, INVPCID, XSAVES (opt)
//   exit:  host address-space size, acknowledge interrupt on exit, save and
//          load IA32_EFER, save/load PAT (req); save preemption timer (opt)
//   entry: load IA32_EFER, load PAT (req)
// "IA-32e mode guest" is per guest: the VMM ORs it into the entry word for
// 64-bit guests (caps.can(EntryCtl::ia32e_mode_guest)).
ControlRequest mamori_control_request();

struct ControlBit {
  ControlKind kind;
  uint8_t bit;
};

struct ComputedControls {
  static constexpr int kMaxList = 32;
  uint32_t value[kControlKinds] = {};
  ControlBit missing[kMaxList];      // required but not allowed to be 1
  int missing_count = 0;
  ControlBit unavailable[kMaxList];  // optional and not available (for the log)
  int unavailable_count = 0;
  ControlBit forced[kMaxList];       // asked to avoid, but must be 1
  int forced_count = 0;

  bool ok() const { return missing_count == 0; }
  uint32_t pin() const { return value[static_cast<int>(ControlKind::pin)]; }
  uint32_t proc() const { return value[static_cast<int>(ControlKind::proc)]; }
  uint32_t proc2() const { return value[static_cast<int>(ControlKind::proc2)]; }
  uint32_t exit() const { return value[static_cast<int>(ControlKind::exit)]; }
  uint32_t entry() const { return value[static_cast<int>(ControlKind::entry)]; }
  bool is_missing(ControlKind k, uint32_t bit_mask) const;
};

ComputedControls compute_controls(const VmxCapabilities& caps, const ControlRequest& req);

}  // namespace mamori::vmx
