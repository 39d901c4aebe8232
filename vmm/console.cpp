#include "console.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/lib/spinlock.hpp"

namespace mamori::console {
namespace {
drivers::Uart16550 g_uart;
lib::Spinlock g_lock;

void raw_put(char c) {
  if (c == '\n') g_uart.put('\r');
  g_uart.put(c);
}
void sink_put(void*, char c) { raw_put(c); }
}  // namespace

bool init(uint16_t port, uint32_t baud) { return g_uart.init(port, baud); }
drivers::Uart16550& uart() { return g_uart; }

void putc(char c) {
  lib::LockGuard g(g_lock);
  raw_put(c);
}

void write(const char* s) {
  lib::LockGuard g(g_lock);
  while (*s) raw_put(*s++);
}

void vprintf(const char* fmt, va_list ap) {
  lib::LockGuard g(g_lock);
  lib::vformat(lib::Sink{sink_put, nullptr}, fmt, ap);
}

void printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

int try_getc() { return g_uart.try_get(); }
void force_unlock() { g_lock.unlock(); }

}  // namespace mamori::console
