// Console text for VMX diagnostics, written into caller buffers (pure, no
// allocation, no printf): capability summary, readiness findings, missing
// controls and VM-entry checker violations. Output is always NUL-terminated
// and silently truncated to the buffer.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/control_compute.hpp"
#include "vmx/entry_check.hpp"
#include "vmx/exit_reason.hpp"
#include "vmx/readiness.hpp"

namespace mamori::vmx {

class TextBuffer {
 public:
  TextBuffer(char* buf, size_t cap) : buf_(buf), cap_(cap) {
    if (cap_) buf_[0] = 0;
  }
  TextBuffer& put(const char* s);
  TextBuffer& put(char c);
  TextBuffer& hex(uint64_t v);  // "0x1f"
  TextBuffer& dec(uint64_t v);
  size_t length() const { return len_; }
  bool truncated() const { return truncated_; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool truncated_ = false;
};

// "VMX rev 0x2b, VMCS 4096 B WB, TRUE controls; EPT 4-level WB UC 2M 1G A/D
//  INVEPT single all; VPID INVVPID addr single all single-globals;
//  unrestricted guest; preemption timer 1/2^0 TSC"
size_t format_capabilities(const VmxCapabilities& caps, char* out, size_t cap);
// "warning: EPT: 1 GiB pages not supported (guests use 2 MiB pages)"
size_t format_finding(const Finding& f, char* out, size_t cap);
// "secondary processor-based control 'unrestricted_guest' (bit 7)"
size_t format_control_bit(const ControlBit& b, char* out, size_t cap);
// "pin-based 0x7f: external_interrupt_exiting nmi_exiting virtual_nmis
//  preemption_timer +3 reserved" — the named bits set in a control word
// (default1/reserved bits are counted, not named).
size_t format_control_word(ControlKind kind, uint32_t value, char* out, size_t cap);
// "[SDM 27.3.1.2] guest CS: type must be ... (guest_cs_access_rights = 0x93)"
size_t format_violation(const Violation& v, char* out, size_t cap);

// How a VM entry failed (§27.7, §27.8): VMfailValid with a VM-instruction
// error (controls or host state), or a VM exit with bit 31 of the exit
// reason set (guest state, MSR loading, machine check).
struct EntryFailure {
  bool vm_fail_valid = false;
  uint32_t vm_instruction_error = 0;  // if vm_fail_valid
  ExitReasonField exit_reason{0};     // otherwise
  uint64_t exit_qualification = 0;    // 33: 2 PDPTE, 3 NMI injection, 4 link pointer; 34: MSR index
};

// Writes the serial-log diagnosis of a failed VM entry, one line per call of
// line(const char*): what the CPU said, then every rule the checker finds.
template <class Line>
void print_entry_failure(const EntryFailure& f, const EntryCheckReport& report, Line&& line) {
  char buf[320];
  {
    TextBuffer t(buf, sizeof buf);
    t.put("VM entry failed: ");
    if (f.vm_fail_valid) {
      t.put("VM-instruction error ").dec(f.vm_instruction_error).put(" (")
          .put(vm_instruction_error_text(f.vm_instruction_error)).put(")");
    } else {
      t.put("exit reason ").dec(f.exit_reason.basic_number()).put(" (")
          .put(exit_reason_name(f.exit_reason.basic_number())).put("), qualification ")
          .hex(f.exit_qualification);
    }
    line(buf);
  }
  {
    TextBuffer t(buf, sizeof buf);
    if (report.ok())
      t.put("entry checker: no rule violated (the cause is a check it cannot see, e.g. memory "
            "the VMCS points to)");
    else
      t.put("entry checker: ").dec(static_cast<uint64_t>(report.count + report.dropped))
          .put(" rule(s) violated:");
    line(buf);
  }
  for (int i = 0; i < report.count; ++i) {
    format_violation(report.violations[i], buf, sizeof buf);
    line(buf);
  }
}

}  // namespace mamori::vmx
