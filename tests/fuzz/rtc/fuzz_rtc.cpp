// libFuzzer target: random index/data port accesses, clock advances and
// timer updates against the MC146818 model. Invariants after every step:
//  - no crash, no UB (ASan/UBSan), no endless alarm search;
//  - IRQ8 equals IRQF = PF&PIE | AF&AIE | UF&UIE;
//  - register C reads IRQF consistently and is clear right after a read;
//  - register D reads VRT; UIP is never set while SET is;
//  - next_event() after update() is in the future (or never).
#include <stdint.h>
#include <stdlib.h>

#include "devices/rtc/rtc.hpp"

using namespace mamori::devices;
using namespace mamori::devices::rtc;

#include "tests/fuzz/support/device_fakes.hpp"

namespace {

using mamori::fuzz::TestClock;
using Line = mamori::fuzz::EdgeLine;

bool irqf(const Rtc& r) {
  const uint8_t f = r.flags(), b = r.reg_b();
  return ((f & c::kPf) && (b & b::kPie)) || ((f & c::kAf) && (b & b::kAie)) || ((f & c::kUf) && (b & b::kUie));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  TestClock clock;
  clock.t = uint64_t{data[0]} << 32;
  Line irq;
  // Any wall clock from 1970 to ~year 9999.
  const uint64_t epoch = (uint64_t{data[1]} | uint64_t{data[2]} << 8 | uint64_t{data[3]} << 16) * 15000ull;
  Rtc rtc(clock, &irq, epoch);
  size_t i = 4;
  while (i + 2 <= size) {
    const uint8_t op = data[i], arg = data[i + 1];
    i += 2;
    switch (op & 7) {
      case 0:
        rtc.write(kIndexPort, 1, arg);
        break;
      case 1:
      case 2:
        rtc.write(kDataPort, 1, arg);
        break;
      case 3: {
        const uint8_t v = static_cast<uint8_t>(rtc.read(kDataPort, 1));
        (void)v;
        break;
      }
      case 4: {
        // Read C: IRQF bit agrees with the line, then everything is clear.
        rtc.write(kIndexPort, 1, reg::kC);
        const bool level = irq.level;
        const uint8_t v = static_cast<uint8_t>(rtc.read(kDataPort, 1));
        FUZZ_ASSERT(((v & c::kIrqf) != 0) == level || (v & 0x70) != 0);
        FUZZ_ASSERT((v & 0x0F) == 0);
        FUZZ_ASSERT(rtc.flags() == 0 && !irq.level);
        rtc.write(kIndexPort, 1, reg::kD);
        FUZZ_ASSERT(rtc.read(kDataPort, 1) == d::kVrt);
        rtc.write(kIndexPort, 1, reg::kA);
        const uint8_t a = static_cast<uint8_t>(rtc.read(kDataPort, 1));
        if (rtc.reg_b() & b::kSet) FUZZ_ASSERT((a & a::kUip) == 0);
        break;
      }
      case 5:
        clock.t += uint64_t{arg} << ((op >> 3) * 2);
        continue;  // the line catches up at the next access or update
      case 6: {
        const uint64_t e = rtc.next_event();
        if ((op & 8) && e != kNever && e > clock.t && e - clock.t < (uint64_t{1} << 50)) clock.t = e;
        rtc.update();
        const uint64_t n = rtc.next_event();
        FUZZ_ASSERT(n == kNever || n > clock.t);
        break;
      }
      default:
        if (arg == 0xA5)
          rtc.reset();
        else
          rtc.set_memory_size(uint64_t{arg} << 26, uint64_t{op} << 30);
        break;
    }
    FUZZ_ASSERT(irq.level == rtc.irq_level());
    FUZZ_ASSERT(irq.level == irqf(rtc));
  }
  return 0;
}
