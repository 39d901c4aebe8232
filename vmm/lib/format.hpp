// printf-style formatting into a caller-supplied sink, for the VMM console
// and log. Pure: host-tested in tests/unit/lib.
//
// Supported: %s %c %d %i %u %x %X %p %% with flags '-' '0', width, and the
// length modifiers l, ll, z (all treated as 64-bit). Unknown conversions
// are printed literally so a bad format string is visible, not undefined.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace mamori::lib {

struct Sink {
  void (*put)(void* ctx, char c);
  void* ctx;
};

size_t vformat(Sink sink, const char* fmt, va_list ap);
size_t format(Sink sink, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Formats into buf (always NUL-terminated when cap > 0); returns the
// length the full output would have had (like snprintf).
size_t snformat(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace mamori::lib
