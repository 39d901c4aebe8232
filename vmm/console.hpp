// The VMM console: the serial line (COM1 by default, from mamori.cfg) that
// carries the log and the shell. One lock serialises lines across CPUs.
#pragma once
#include <stdarg.h>
#include "drivers/uart/uart16550.hpp"

namespace mamori::console {

bool init(uint16_t port, uint32_t baud);
drivers::Uart16550& uart();
void write(const char* s);
void putc(char c);
void printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf(const char* fmt, va_list ap);
int try_getc();
// Panic path: take the console even if another CPU died holding the lock.
void force_unlock();

}  // namespace mamori::console
