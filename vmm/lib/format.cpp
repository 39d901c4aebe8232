#include "format.hpp"

namespace mamori::lib {
namespace {

struct Spec {
  bool left = false;
  bool zero = false;
  int width = 0;
  bool wide = false;
};

size_t emit_padded(Sink s, const char* body, size_t len, const Spec& spec, bool negative) {
  size_t total = len + (negative ? 1 : 0);
  size_t pad = (spec.width > 0 && static_cast<size_t>(spec.width) > total) ? spec.width - total : 0;
  size_t n = 0;
  auto put = [&](char c) { s.put(s.ctx, c); ++n; };
  if (!spec.left && !spec.zero) for (size_t i = 0; i < pad; ++i) put(' ');
  if (negative) put('-');
  if (!spec.left && spec.zero) for (size_t i = 0; i < pad; ++i) put('0');
  for (size_t i = 0; i < len; ++i) put(body[i]);
  if (spec.left) for (size_t i = 0; i < pad; ++i) put(' ');
  return n;
}

size_t emit_unsigned(Sink s, uint64_t v, unsigned base, bool upper, const Spec& spec, bool negative) {
  char tmp[24];
  size_t i = 0;
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    tmp[i++] = digits[v % base];
    v /= base;
  } while (v);
  char body[24];
  for (size_t j = 0; j < i; ++j) body[j] = tmp[i - 1 - j];
  return emit_padded(s, body, i, spec, negative);
}

}  // namespace

size_t vformat(Sink sink, const char* fmt, va_list ap) {
  size_t n = 0;
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') {
      sink.put(sink.ctx, *p);
      ++n;
      continue;
    }
    const char* start = p++;
    Spec spec;
    for (;; ++p) {
      if (*p == '-') spec.left = true;
      else if (*p == '0') spec.zero = true;
      else break;
    }
    while (*p >= '0' && *p <= '9') spec.width = spec.width * 10 + (*p++ - '0');
    while (*p == 'l' || *p == 'z') { spec.wide = true; ++p; }
    switch (*p) {
      case 's': {
        const char* str = va_arg(ap, const char*);
        if (!str) str = "(null)";
        size_t len = 0;
        while (str[len]) ++len;
        Spec sp = spec;
        sp.zero = false;
        n += emit_padded(sink, str, len, sp, false);
        break;
      }
      case 'c': {
        char c = static_cast<char>(va_arg(ap, int));
        n += emit_padded(sink, &c, 1, spec, false);
        break;
      }
      case 'd':
      case 'i': {
        int64_t v = spec.wide ? va_arg(ap, int64_t) : va_arg(ap, int);
        uint64_t mag = v < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        n += emit_unsigned(sink, mag, 10, false, spec, v < 0);
        break;
      }
      case 'u':
        n += emit_unsigned(sink, spec.wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, spec, false);
        break;
      case 'x':
      case 'X':
        n += emit_unsigned(sink, spec.wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, *p == 'X', spec, false);
        break;
      case 'p': {
        sink.put(sink.ctx, '0');
        sink.put(sink.ctx, 'x');
        n += 2;
        Spec sp;
        sp.zero = true;
        sp.width = 16;
        n += emit_unsigned(sink, reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16, false, sp, false);
        break;
      }
      case '%':
        sink.put(sink.ctx, '%');
        ++n;
        break;
      default:  // unknown or truncated conversion: print it as written
        for (const char* q = start; q <= p && *q; ++q) { sink.put(sink.ctx, *q); ++n; }
        if (!*p) return n;
        break;
    }
  }
  return n;
}

size_t format(Sink sink, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = vformat(sink, fmt, ap);
  va_end(ap);
  return n;
}

namespace {
struct BufCtx { char* buf; size_t cap; size_t len; };
void buf_put(void* ctx, char c) {
  auto* b = static_cast<BufCtx*>(ctx);
  if (b->len + 1 < b->cap) b->buf[b->len] = c;
  ++b->len;
}
}  // namespace

size_t snformat(char* buf, size_t cap, const char* fmt, ...) {
  BufCtx ctx{buf, cap, 0};
  va_list ap;
  va_start(ap, fmt);
  vformat(Sink{buf_put, &ctx}, fmt, ap);
  va_end(ap);
  if (cap) buf[ctx.len < cap ? ctx.len : cap - 1] = 0;
  return ctx.len;
}

}  // namespace mamori::lib
