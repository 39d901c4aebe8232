// A capability capture a user can send (issue 15): every VMX capability MSR
// and CPUID leaf the VMM reads, as one text block that `vmx caps` prints on
// the console and the unit tests read back, unchanged, as a fixture
// (tests/unit/vmx/data/*.capture, docs/vmx.md "Contributing a capture").
//
//   mamori-capture 1
//   cpuid LLLLLLLL SSSSSSSS EAX EBX ECX EDX     (8 hex digits each)
//   msr IIIIIIII VVVVVVVVVVVVVVVV               (present MSRs only, SDM App. A)
//   end
//
// Lines may carry a console prefix before "mamori-capture"/"cpuid"/"msr"/
// "end" (the parser finds the keyword), so a pasted serial log works too.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmx/capabilities.hpp"

namespace mamori::vmx {

struct CpuidLeaf {
  uint32_t leaf, subleaf;
  uint32_t eax, ebx, ecx, edx;
};

// The leaves the VMM consults (VMX and hypervisor bits, XSAVE sizes, TSC
// rates, SMEP/SMAP/UMIP, MAXPHYADDR, long-mode features).
inline constexpr struct { uint32_t leaf, subleaf; } kCaptureLeaves[] = {
    {0x0, 0},  {0x1, 0},  {0x6, 0},         {0x7, 0},         {0xD, 0},          {0xD, 1},
    {0x15, 0}, {0x16, 0}, {0x80000000u, 0}, {0x80000001u, 0}, {0x80000008u, 0},
};
inline constexpr size_t kCaptureMaxLeaves = 16;
inline constexpr uint32_t kCaptureVersion = 1;

struct Capture {
  RawVmxMsrs msrs;
  uint32_t present_mask = 0;  // bit (index - 0x480) for 0x480-0x491; bit 31 for 0x3A
  CpuidLeaf cpuid[kCaptureMaxLeaves] = {};
  size_t cpuid_count = 0;
  const CpuidLeaf* find_cpuid(uint32_t leaf, uint32_t subleaf) const;
};
inline constexpr uint32_t kCapturePresentFeatureControl = 1u << 31;

// Which of 0x3A and 0x480-0x491 exist on the CPU `r` was read from (SDM
// App. A, judged in index order as the VMM reads them): the capture lists
// exactly those.
uint32_t present_mask_of(const RawVmxMsrs& r);

// One line at a time, without a newline; `line` gets a NUL-terminated buffer.
template <typename Line>
void write_capture(const Capture& c, Line&& line);

enum class CaptureError : uint8_t { None, NoHeader, BadVersion, BadLine, UnknownMsr, TooManyLeaves, NoEnd };
const char* describe(CaptureError e);

// Parses the first capture block in text[0..len). On error, *bad_line is
// the 1-based line number where it was found.
CaptureError parse_capture(const char* text, size_t len, Capture& out, unsigned* bad_line);

// ---- implementation of the template ----
namespace capture_detail {
size_t format_cpuid(const CpuidLeaf& l, char* out, size_t cap);
size_t format_msr(uint32_t index, uint64_t value, char* out, size_t cap);
bool msr_value(const RawVmxMsrs& r, uint32_t index, uint64_t& v);
}  // namespace capture_detail

template <typename Line>
void write_capture(const Capture& c, Line&& line) {
  char buf[96];
  line("mamori-capture 1");
  for (size_t i = 0; i < c.cpuid_count; ++i) {
    capture_detail::format_cpuid(c.cpuid[i], buf, sizeof buf);
    line(static_cast<const char*>(buf));
  }
  if (c.present_mask & kCapturePresentFeatureControl) {
    capture_detail::format_msr(0x3A, c.msrs.feature_control, buf, sizeof buf);
    line(static_cast<const char*>(buf));
  }
  for (uint32_t m = 0x480; m <= 0x491; ++m) {
    uint64_t v;
    if (!(c.present_mask & (1u << (m - 0x480))) || !capture_detail::msr_value(c.msrs, m, v)) continue;
    capture_detail::format_msr(m, v, buf, sizeof buf);
    line(static_cast<const char*>(buf));
  }
  line("end");
}

}  // namespace mamori::vmx
