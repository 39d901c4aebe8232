// Loader console: every message goes to the firmware console (screen, and
// on OVMF also the serial terminal) so a refusal is visible on a USB-booted
// machine with a monitor as well as on the serial line.
#pragma once
#include <stdint.h>

namespace mamori::loader {
void con_init(void* system_table);
void con_puts(const char* s);
void con_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Print "mamori-loader: FATAL: <msg>", wait so a human can read it, return.
void con_fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
}  // namespace mamori::loader
