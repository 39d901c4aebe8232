#include "vmx/format.hpp"

namespace mamori::vmx {

TextBuffer& TextBuffer::put(char c) {
  if (len_ + 1 < cap_) {
    buf_[len_++] = c;
    buf_[len_] = 0;
  } else {
    truncated_ = true;
  }
  return *this;
}
TextBuffer& TextBuffer::put(const char* s) {
  while (*s) put(*s++);
  return *this;
}
TextBuffer& TextBuffer::hex(uint64_t v) {
  put("0x");
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 0xF];
    v >>= 4;
  } while (v);
  while (n) put(tmp[--n]);
  return *this;
}
TextBuffer& TextBuffer::dec(uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put(tmp[--n]);
  return *this;
}

namespace {
const char* memory_type_name(MemoryType t) {
  switch (t) {
    case MemoryType::uc: return "UC";
    case MemoryType::wc: return "WC";
    case MemoryType::wt: return "WT";
    case MemoryType::wp: return "WP";
    case MemoryType::wb: return "WB";
  }
  return "?";
}
}  // namespace

size_t format_capabilities(const VmxCapabilities& c, char* out, size_t cap) {
  TextBuffer t(out, cap);
  if (!c.cpuid_vmx) return t.put("no VMX").length();
  t.put("VMX rev ").hex(c.revision_id).put(", VMCS ").dec(c.vmcs_size).put(" B ");
  t.put(memory_type_name(c.vmcs_memory_type));
  if (c.true_controls) t.put(", TRUE controls");
  t.put("; EPT");
  if (!c.ept_enabled_possible()) {
    t.put(" none");
  } else {
    if (c.ept.walk_length_4) t.put(" 4-level");
    if (c.ept.walk_length_5) t.put(" 5-level");
    if (c.ept.memory_type_wb) t.put(" WB");
    if (c.ept.memory_type_uc) t.put(" UC");
    if (c.ept.pages_2m) t.put(" 2M");
    if (c.ept.pages_1g) t.put(" 1G");
    if (c.ept.accessed_dirty) t.put(" A/D");
    if (c.ept.invept) {
      t.put(" INVEPT");
      if (c.ept.invept_single_context) t.put(" single");
      if (c.ept.invept_all_context) t.put(" all");
    }
  }
  t.put("; VPID");
  if (!c.vpid()) {
    t.put(" none");
  } else if (c.ept.invvpid) {
    t.put(" INVVPID");
    if (c.ept.invvpid_individual_address) t.put(" addr");
    if (c.ept.invvpid_single_context) t.put(" single");
    if (c.ept.invvpid_all_context) t.put(" all");
    if (c.ept.invvpid_single_context_retaining_globals) t.put(" single-globals");
  }
  if (c.unrestricted_guest()) t.put("; unrestricted guest");
  if (c.preemption_timer())
    t.put("; preemption timer 1/2^").dec(c.misc.preemption_timer_shift).put(" TSC");
  return t.length();
}

size_t format_finding(const Finding& f, char* out, size_t cap) {
  TextBuffer t(out, cap);
  switch (f.severity) {
    case Severity::required: t.put("missing: "); break;
    case Severity::warning: t.put("warning: "); break;
    case Severity::info: t.put("note: "); break;
  }
  t.put(f.text);
  if (f.has_control)
    t.put(": ").put(control_kind_name(f.control.kind)).put(" control '")
        .put(control_bit_name(f.control.kind, f.control.bit)).put("'");
  return t.length();
}

size_t format_control_bit(const ControlBit& b, char* out, size_t cap) {
  TextBuffer t(out, cap);
  t.put(control_kind_name(b.kind)).put(" control '").put(control_bit_name(b.kind, b.bit));
  return t.put("' (bit ").dec(b.bit).put(")").length();
}

size_t format_control_word(ControlKind kind, uint32_t value, char* out, size_t cap) {
  TextBuffer t(out, cap);
  t.put(control_kind_name(kind)).put(" ").hex(value).put(":");
  unsigned reserved = 0;
  for (unsigned b = 0; b < 32; ++b) {
    if (!((value >> b) & 1)) continue;
    if (!control_bit_known(kind, b)) {
      ++reserved;
      continue;
    }
    t.put(" ").put(control_bit_name(kind, b));
  }
  if (reserved) t.put(" +").dec(reserved).put(" reserved");
  return t.length();
}

size_t format_violation(const Violation& v, char* out, size_t cap) {
  TextBuffer t(out, cap);
  t.put("[SDM ").put(v.section).put("] ").put(v.rule).put(" (").put(field_name(v.field));
  return t.put(" = ").hex(v.value).put(")").length();
}

}  // namespace mamori::vmx
