// The C runtime the compiler expects in a freestanding image: mem* (GCC
// emits calls to them for struct copies even with -ffreestanding) and the
// stack protector's guard and failure hook (-mstack-protector-guard=global).
#include <stddef.h>
#include <stdint.h>
#include "vmm/panic.hpp"

extern "C" {

// String instructions (general-purpose, no SSE): 8 bytes per step, then
// the tail; images of several MiB (guests, vtpm-service) go through here.
void* memcpy(void* d, const void* s, size_t n) {
  void* dst = d;
  size_t q = n / 8, r = n % 8;
  asm volatile("rep movsq" : "+D"(dst), "+S"(s), "+c"(q) : : "memory");
  asm volatile("rep movsb" : "+D"(dst), "+S"(s), "+c"(r) : : "memory");
  return d;
}

void* memmove(void* d, const void* s, size_t n) {
  auto* dd = static_cast<uint8_t*>(d);
  auto* ss = static_cast<const uint8_t*>(s);
  if (dd < ss) {
    while (n--) *dd++ = *ss++;
  } else {
    while (n--) dd[n] = ss[n];
  }
  return d;
}

void* memset(void* d, int c, size_t n) {
  void* dst = d;
  uint64_t pattern = 0x0101010101010101ull * static_cast<uint8_t>(c);
  size_t q = n / 8, r = n % 8;
  asm volatile("rep stosq" : "+D"(dst), "+c"(q) : "a"(pattern) : "memory");
  asm volatile("rep stosb" : "+D"(dst), "+c"(r) : "a"(pattern) : "memory");
  return d;
}

int memcmp(const void* a, const void* b, size_t n) {
  auto* aa = static_cast<const uint8_t*>(a);
  auto* bb = static_cast<const uint8_t*>(b);
  for (size_t i = 0; i < n; ++i)
    if (aa[i] != bb[i]) return aa[i] < bb[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

// Re-seeded from RDRAND/TSC in vmm_main before anything deep runs; the
// initial value only guards the first few frames.
uintptr_t __stack_chk_guard = 0x595e9fbd94fda766ull;

[[noreturn]] void __stack_chk_fail() { mamori::panic("stack smashing detected (stack protector canary overwritten)"); }

// Pure-virtual calls and atexit registrations never happen in the VMM.
[[noreturn]] void __cxa_pure_virtual() { mamori::panic("pure virtual function called"); }
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
void* __dso_handle = nullptr;
}

extern "C" int strncmp(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
    if (!a[i]) return 0;
  }
  return 0;
}

extern "C" int strcmp(const char* a, const char* b) { return strncmp(a, b, SIZE_MAX); }
