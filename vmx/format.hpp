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
// "[SDM 27.3.1.2] guest CS: type must be ... (guest_cs_access_rights = 0x93)"
size_t format_violation(const Violation& v, char* out, size_t cap);

}  // namespace mamori::vmx
