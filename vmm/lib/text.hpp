// The few string operations the VMM needs (no libc in the VMM).
#pragma once
#include <stddef.h>

namespace mamori::lib {

inline bool str_eq(const char* a, const char* b) {
  while (*a && *a == *b) { ++a; ++b; }
  return *a == *b;
}

// Copies at most cap-1 characters and always terminates (cap > 0).
inline void copy_str(char* dst, const char* src, size_t cap) {
  size_t i = 0;
  for (; src[i] && i + 1 < cap; ++i) dst[i] = src[i];
  dst[i] = 0;
}

}  // namespace mamori::lib
