// TSC frequency, calibrated once against the 8254 PIT (channel 2, gate
// controlled through port 0x61), and busy-wait delays on top of it.
#pragma once
#include <stdint.h>

namespace mamori::drivers::tsc {

void calibrate();          // BSP, once, interrupts off
uint64_t hz();             // ticks per second (0 before calibrate)
void delay_us(uint64_t us);
// Microseconds since reset by the TSC (1 GHz assumed before calibrate(),
// so a bounded wait stays bounded).
uint64_t now_us();

}  // namespace mamori::drivers::tsc
