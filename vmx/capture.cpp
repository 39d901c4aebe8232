#include "vmx/capture.hpp"

namespace mamori::vmx {
namespace capture_detail {
namespace {
size_t put_hex(char* out, size_t at, size_t cap, uint64_t v, unsigned digits) {
  for (unsigned i = 0; i < digits && at + 1 < cap; ++i) {
    unsigned nib = static_cast<unsigned>(v >> (4 * (digits - 1 - i))) & 0xF;
    out[at++] = static_cast<char>(nib < 10 ? '0' + nib : 'a' + nib - 10);
  }
  return at;
}
size_t put_str(char* out, size_t at, size_t cap, const char* s) {
  while (*s && at + 1 < cap) out[at++] = *s++;
  return at;
}
}  // namespace

size_t format_cpuid(const CpuidLeaf& l, char* out, size_t cap) {
  size_t at = put_str(out, 0, cap, "cpuid ");
  const uint32_t f[6] = {l.leaf, l.subleaf, l.eax, l.ebx, l.ecx, l.edx};
  for (unsigned i = 0; i < 6; ++i) {
    at = put_hex(out, at, cap, f[i], 8);
    if (i < 5) at = put_str(out, at, cap, " ");
  }
  out[at] = 0;
  return at;
}

size_t format_msr(uint32_t index, uint64_t value, char* out, size_t cap) {
  size_t at = put_str(out, 0, cap, "msr ");
  at = put_hex(out, at, cap, index, 8);
  at = put_str(out, at, cap, " ");
  at = put_hex(out, at, cap, value, 16);
  out[at] = 0;
  return at;
}

bool msr_value(const RawVmxMsrs& r, uint32_t index, uint64_t& v) {
  switch (index) {
    case 0x3A: v = r.feature_control; return true;
    case 0x480: v = r.basic; return true;
    case 0x481: v = r.pinbased; return true;
    case 0x482: v = r.procbased; return true;
    case 0x483: v = r.exit; return true;
    case 0x484: v = r.entry; return true;
    case 0x485: v = r.misc; return true;
    case 0x486: v = r.cr0_fixed0; return true;
    case 0x487: v = r.cr0_fixed1; return true;
    case 0x488: v = r.cr4_fixed0; return true;
    case 0x489: v = r.cr4_fixed1; return true;
    case 0x48A: v = r.vmcs_enum; return true;
    case 0x48B: v = r.procbased2; return true;
    case 0x48C: v = r.ept_vpid_cap; return true;
    case 0x48D: v = r.true_pinbased; return true;
    case 0x48E: v = r.true_procbased; return true;
    case 0x48F: v = r.true_exit; return true;
    case 0x490: v = r.true_entry; return true;
    case 0x491: v = r.vmfunc; return true;
    default: return false;
  }
}
}  // namespace capture_detail

uint32_t present_mask_of(const RawVmxMsrs& r) {
  if (!r.cpuid_vmx) return 0;  // no VMX: IA32_FEATURE_CONTROL and the capability MSRs are not read
  uint32_t mask = kCapturePresentFeatureControl;
  RawVmxMsrs so_far;
  so_far.cpuid_vmx = true;
  uint64_t v;
  for (uint32_t m = 0x480; m <= 0x491; ++m) {
    if (!msr_present(so_far, m)) continue;
    mask |= 1u << (m - 0x480);
    if (capture_detail::msr_value(r, m, v)) so_far.set(m, v);
  }
  return mask;
}

const CpuidLeaf* Capture::find_cpuid(uint32_t leaf, uint32_t subleaf) const {
  for (size_t i = 0; i < cpuid_count; ++i)
    if (cpuid[i].leaf == leaf && cpuid[i].subleaf == subleaf) return &cpuid[i];
  return nullptr;
}

const char* describe(CaptureError e) {
  switch (e) {
    case CaptureError::None: return "ok";
    case CaptureError::NoHeader: return "no 'mamori-capture' line";
    case CaptureError::BadVersion: return "unknown capture version";
    case CaptureError::BadLine: return "a line that is not 'cpuid', 'msr' or 'end' with hex fields";
    case CaptureError::UnknownMsr: return "an MSR the VMM does not read (0x3A, 0x480-0x491)";
    case CaptureError::TooManyLeaves: return "more CPUID leaves than a capture holds";
    case CaptureError::NoEnd: return "no 'end' line";
  }
  return "?";
}

namespace {
struct Cursor {
  const char* p;
  const char* end;
  bool at_end() const { return p >= end; }
};

// [b, e) of the next line; advances past its newline.
bool next_line(Cursor& c, const char*& b, const char*& e) {
  if (c.at_end()) return false;
  b = c.p;
  while (c.p < c.end && *c.p != '\n') ++c.p;
  e = c.p;
  if (e > b && e[-1] == '\r') --e;
  if (c.p < c.end) ++c.p;
  return true;
}

// The keyword's position in [b, e), or null: a console prefix may stand before it.
const char* find_word(const char* b, const char* e, const char* w) {
  size_t n = 0;
  while (w[n]) ++n;
  for (const char* s = b; s + n <= e; ++s) {
    bool m = true;
    for (size_t i = 0; i < n && m; ++i) m = s[i] == w[i];
    if (m && (s == b || s[-1] == ' ' || s[-1] == ']') && (s + n == e || s[n] == ' ')) return s;
  }
  return nullptr;
}

bool hex_field(const char*& s, const char* e, unsigned digits, uint64_t& v) {
  while (s < e && *s == ' ') ++s;
  v = 0;
  unsigned n = 0;
  for (; s < e && *s != ' '; ++s, ++n) {
    char ch = *s;
    unsigned d;
    if (ch >= '0' && ch <= '9') d = static_cast<unsigned>(ch - '0');
    else if (ch >= 'a' && ch <= 'f') d = static_cast<unsigned>(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F') d = static_cast<unsigned>(ch - 'A' + 10);
    else return false;
    v = (v << 4) | d;
  }
  return n == digits;
}
}  // namespace

CaptureError parse_capture(const char* text, size_t len, Capture& out, unsigned* bad_line) {
  out = Capture{};
  Cursor c{text, text + len};
  const char *b, *e;
  unsigned line = 0;
  bool header = false;
  auto fail = [&](CaptureError err) {
    if (bad_line) *bad_line = line;
    return err;
  };
  while (next_line(c, b, e)) {
    ++line;
    if (!header) {
      const char* h = find_word(b, e, "mamori-capture");
      if (!h) continue;
      const char* s = h + 14;
      uint64_t v;
      if (!hex_field(s, e, 1, v) || v != kCaptureVersion) return fail(CaptureError::BadVersion);
      header = true;
      continue;
    }
    if (find_word(b, e, "end")) {
      if (const CpuidLeaf* l1 = out.find_cpuid(1, 0)) out.msrs.cpuid_vmx = (l1->ecx >> 5) & 1;  // CPUID.1:ECX.VMX
      return CaptureError::None;
    }
    if (const char* s = find_word(b, e, "cpuid")) {
      s += 5;
      uint64_t f[6];
      for (auto& x : f)
        if (!hex_field(s, e, 8, x)) return fail(CaptureError::BadLine);
      if (s != e) return fail(CaptureError::BadLine);
      if (out.cpuid_count == kCaptureMaxLeaves) return fail(CaptureError::TooManyLeaves);
      out.cpuid[out.cpuid_count++] = {static_cast<uint32_t>(f[0]), static_cast<uint32_t>(f[1]), static_cast<uint32_t>(f[2]),
                                      static_cast<uint32_t>(f[3]), static_cast<uint32_t>(f[4]), static_cast<uint32_t>(f[5])};
      continue;
    }
    if (const char* s = find_word(b, e, "msr")) {
      s += 3;
      uint64_t idx, v;
      if (!hex_field(s, e, 8, idx) || !hex_field(s, e, 16, v) || s != e) return fail(CaptureError::BadLine);
      if (idx != 0x3A && (idx < 0x480 || idx > 0x491)) return fail(CaptureError::UnknownMsr);
      out.msrs.set(static_cast<uint32_t>(idx), v);
      out.present_mask |= idx == 0x3A ? kCapturePresentFeatureControl : 1u << (idx - 0x480);
      continue;
    }
    return fail(CaptureError::BadLine);
  }
  return fail(header ? CaptureError::NoEnd : CaptureError::NoHeader);
}

}  // namespace mamori::vmx
