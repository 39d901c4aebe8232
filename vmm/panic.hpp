// The VMM's last word: print the reason, the registers and a backtrace on
// the serial console, then stop every CPU (an NMI IPI to the others).
#pragma once

namespace mamori {
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Parks every other CPU (NMI; they leave VMX operation and halt). Used by
// panic and before a reset or power-off.
void stop_other_cpus();
}
