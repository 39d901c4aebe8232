#include "console.hpp"
#include "efi.hpp"
#include <stdarg.h>

namespace mamori::loader {
namespace {
EFI_SYSTEM_TABLE* g_st;

// Minimal formatter: %s %d %u %x %lx %lu %ld %c %p %%, width/zero-pad for x.
void put_char16(CHAR16* buf, unsigned& n, char c) {
  if (c == '\n') buf[n++] = '\r';
  buf[n++] = static_cast<CHAR16>(static_cast<unsigned char>(c));
}

void flush(CHAR16* buf, unsigned& n) {
  buf[n] = 0;
  if (g_st && n) uefi_call_wrapper(g_st->ConOut->OutputString, 2, g_st->ConOut, buf);
  n = 0;
}

void vformat(const char* fmt, va_list ap) {
  CHAR16 buf[260];
  unsigned n = 0;
  auto put = [&](char c) {
    if (n >= 250) flush(buf, n);
    put_char16(buf, n, c);
  };
  auto put_num = [&](unsigned long long v, unsigned base, int width, char pad) {
    char tmp[24];
    int i = 0;
    do { tmp[i++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    while (i < width) tmp[i++] = pad;
    while (i) put(tmp[--i]);
  };
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') { put(*p); continue; }
    ++p;
    char pad = ' ';
    int width = 0;
    if (*p == '0') { pad = '0'; ++p; }
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    bool is_long = false;
    while (*p == 'l') { is_long = true; ++p; }
    switch (*p) {
      case 's': { const char* s = va_arg(ap, const char*); if (!s) s = "(null)"; while (*s) put(*s++); break; }
      case 'c': put(static_cast<char>(va_arg(ap, int))); break;
      case 'd': {
        long long v = is_long ? va_arg(ap, long long) : va_arg(ap, int);
        if (v < 0) { put('-'); v = -v; }
        put_num(static_cast<unsigned long long>(v), 10, width, pad);
        break;
      }
      case 'u': put_num(is_long ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 10, width, pad); break;
      case 'x': put_num(is_long ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), 16, width, pad); break;
      case 'p': put('0'); put('x'); put_num(reinterpret_cast<unsigned long long>(va_arg(ap, void*)), 16, 0, ' '); break;
      case '%': put('%'); break;
      default: put('%'); put(*p); break;
    }
  }
  flush(buf, n);
}
}  // namespace

void con_init(void* st) { g_st = static_cast<EFI_SYSTEM_TABLE*>(st); }

void con_puts(const char* s) { con_printf("%s", s); }

void con_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vformat(fmt, ap);
  va_end(ap);
}

void con_fatal(const char* fmt, ...) {
  con_puts("mamori-loader: FATAL: ");
  va_list ap;
  va_start(ap, fmt);
  vformat(fmt, ap);
  va_end(ap);
  con_puts("\n");
  // The firmware moves on to its next boot option when we return: leave
  // the message on screen long enough to be read.
  con_puts("mamori-loader: returning to the firmware in 5 seconds\n");
  if (g_st) uefi_call_wrapper(g_st->BootServices->Stall, 1, 5000000);
}
}  // namespace mamori::loader
