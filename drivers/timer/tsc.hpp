// TSC frequency, calibrated once against the 8254 PIT (channel 2, gate
// controlled through port 0x61), and busy-wait delays on top of it.
#pragma once
#include <stdint.h>

namespace mamori::drivers::tsc {

void calibrate();          // BSP, once, interrupts off
uint64_t hz();             // ticks per second (0 before calibrate)
void delay_us(uint64_t us);

}  // namespace mamori::drivers::tsc
