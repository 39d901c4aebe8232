#include "cmos_clock.hpp"
#include "devices/rtc/rtc.hpp"
#include "vmm/arch/cpu.hpp"

namespace mamori::drivers::cmos_clock {
namespace {
constexpr uint16_t kIndex = 0x70, kData = 0x71;
constexpr uint8_t kNmiDisable = 0x80;  // bit 7 of the index port masks NMI while we read
// MC146818A registers (datasheet, "Address Map"); 0x32 is the century byte
// that ACPI's FADT.CENTURY names on PCs.
constexpr uint8_t kSec = 0x00, kMin = 0x02, kHour = 0x04, kDay = 0x07, kMonth = 0x08, kYear = 0x09,
                  kRegA = 0x0A, kRegB = 0x0B, kCentury = 0x32;
constexpr uint8_t kUip = 0x80;            // register A: update in progress
constexpr uint8_t kBinary = 0x04, k24h = 0x02;  // register B: DM, 24/12
constexpr uint8_t kPm = 0x80;             // hours in 12-hour mode

uint8_t cmos(uint8_t reg) {
  cpu::outb(kIndex, kNmiDisable | reg);
  return cpu::inb(kData);
}
struct Raw { uint8_t s, m, h, d, mo, y, c; };
Raw read_raw() { return {cmos(kSec), cmos(kMin), cmos(kHour), cmos(kDay), cmos(kMonth), cmos(kYear), cmos(kCentury)}; }
bool same(const Raw& a, const Raw& b) {
  return a.s == b.s && a.m == b.m && a.h == b.h && a.d == b.d && a.mo == b.mo && a.y == b.y && a.c == b.c;
}
unsigned bcd(uint8_t v, bool binary) { return binary ? v : (v >> 4) * 10u + (v & 0xF); }
}  // namespace

uint64_t read_epoch_seconds() {
  // The datasheet's rule: read while UIP is clear, and twice alike (an
  // update may start between the UIP check and the reads), as Linux's
  // mc146818_get_time does.
  Raw a{}, b{};
  for (int tries = 0;; ++tries) {
    if (tries == 100000) return 0;
    if (cmos(kRegA) & kUip) continue;
    a = read_raw();
    if (cmos(kRegA) & kUip) continue;
    b = read_raw();
    if (same(a, b)) break;
  }
  const uint8_t regb = cmos(kRegB);
  const bool binary = regb & kBinary;
  unsigned hour = bcd(a.h & ~kPm, binary);
  if (!(regb & k24h)) hour = (hour % 12) + ((a.h & kPm) ? 12 : 0);
  unsigned century = bcd(a.c, binary);
  if (century < 19 || century > 99) century = 20;  // no century byte: this one
  const unsigned day = bcd(a.d, binary), month = bcd(a.mo, binary);
  if (day < 1 || day > 31 || month < 1 || month > 12) return 0;
  const int64_t year = century * 100 + bcd(a.y, binary);
  cpu::outb(kIndex, kRegB);  // leave NMI unmasked again
  return devices::rtc::epoch_from_civil(year, month, day, hour, bcd(a.m, binary), bcd(a.s, binary));
}

}  // namespace mamori::drivers::cmos_clock
