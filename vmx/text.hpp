// Tiny string helpers for pure code: the VMM offers only mem* functions,
// not the str* family.
#pragma once
#include <stddef.h>

namespace mamori::vmx::text {

constexpr bool starts_with(const char* s, const char* prefix) {
  for (; *prefix; ++s, ++prefix)
    if (*s != *prefix) return false;
  return true;
}

constexpr bool contains(const char* haystack, const char* needle) {
  if (!*needle) return true;
  for (; *haystack; ++haystack)
    if (starts_with(haystack, needle)) return true;
  return false;
}

}  // namespace mamori::vmx::text
