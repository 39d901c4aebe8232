// libFuzzer target: the capability-capture parser (vmx/capture.hpp) reads
// text users send. Invariants: no crash or UB on any bytes; a capture that
// parses writes back as text that parses to the same capture and the same
// text (the fixture round trip the unit tests rely on).
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "tests/fuzz/support/fuzz_assert.hpp"
#include "vmx/capture.hpp"

using namespace mamori::vmx;

namespace {
std::string text_of(const Capture& c) {
  std::string out;
  write_capture(c, [&](const char* line) { out += std::string(line) + "\n"; });
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The raw bytes, and the bytes behind a valid header (random input
  // rarely spells one, and the lines after it are where the parser works).
  Capture c;
  unsigned line = 0;
  (void)parse_capture(reinterpret_cast<const char*>(data), size, c, &line);
  std::string text = "mamori-capture 1\n" + std::string(reinterpret_cast<const char*>(data), size);
  if (parse_capture(text.data(), text.size(), c, &line) != CaptureError::None) return 0;
  std::string once = text_of(c);
  Capture back;
  FUZZ_ASSERT(parse_capture(once.data(), once.size(), back, nullptr) == CaptureError::None);
  FUZZ_ASSERT(back.present_mask == c.present_mask);
  FUZZ_ASSERT(back.cpuid_count == c.cpuid_count);
  FUZZ_ASSERT(text_of(back) == once);
  return 0;
}
