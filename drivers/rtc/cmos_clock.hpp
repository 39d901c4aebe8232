// The machine's own MC146818-compatible RTC (CMOS ports 0x70/0x71): the
// time of day at boot, which each guest's virtual RTC starts from.
#pragma once
#include <stdint.h>

namespace mamori::drivers::cmos_clock {

// Seconds since 1970-01-01 00:00 UTC as the RTC holds it (PCs keep UTC or
// local time; mamori passes it on unchanged, as QEMU's `-rtc base=utc`
// does). 0 when the RTC reads as absent or stuck in an update.
uint64_t read_epoch_seconds();

}  // namespace mamori::drivers::cmos_clock
