// Lower-case hex of bytes, for comparing digests with tools' output.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>

namespace mamori::measure::test {
inline std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += d[p[i] >> 4], s += d[p[i] & 15];
  return s;
}
}  // namespace mamori::measure::test
