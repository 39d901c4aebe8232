// libFuzzer target: random port writes/reads at 0x40-0x43/0x61 and clock
// advances against the 8254 model. Invariants after every step:
//  - no crash, no UB (ASan/UBSan);
//  - counters stay below their modulus (2^16 binary, 10^4 BCD);
//  - after update(), the IRQ0 line equals OUT0, and the next event lies
//    in the future;
//  - the line is only driven on changes.
#include <stdint.h>
#include <stdlib.h>

#include "devices/pit/pit.hpp"

using namespace mamori::devices;
using namespace mamori::devices::pit;

#include "tests/fuzz/support/device_fakes.hpp"

namespace {

using mamori::fuzz::TestClock;
using Line = mamori::fuzz::EdgeLine;

constexpr uint64_t kRates[] = {kPitHz, 1'000'000'000, 2'400'000'000ull, 3};
constexpr uint16_t kPorts[] = {0x40, 0x41, 0x42, 0x43, 0x43, 0x61, 0x43, 0x40};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  TestClock clock;
  clock.rate = kRates[data[0] & 3];
  clock.t = (data[0] >> 2) * 1'000'003ull;
  Line irq;
  Pit pit(clock, &irq);
  size_t i = 1;
  while (i + 3 <= size) {
    const uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
    i += 3;
    switch (op & 3) {
      case 0:
        pit.write(kPorts[(op >> 2) & 7], 1, a);
        break;
      case 1:
        (void)pit.read(kPorts[(op >> 2) & 7], 1);
        break;
      case 2:
        clock.t += (uint64_t{a} | (uint64_t{b} << 8)) << ((op >> 2) & 15);
        break;
      default:
        if (op == 0xFF) {
          pit.reset();
        } else {
          // The VMM's timer: jump to the next event, or just update.
          const uint64_t e = pit.next_event();
          if ((op & 4) && e != kNever && e - clock.t < (uint64_t{1} << 40)) clock.t = e;
          pit.update();
          FUZZ_ASSERT(irq.level == pit.out(0));
          FUZZ_ASSERT(irq.level == pit.irq0_level());
          const uint64_t n = pit.next_event();
          FUZZ_ASSERT(n == kNever || n > clock.t);
        }
        break;
    }
    for (uint8_t ch = 0; ch < 3; ++ch) {
      const Channel& c = pit.channel(ch);
      FUZZ_ASSERT(pit.counter(ch) < modulus(c));
      FUZZ_ASSERT(c.mode <= 5);
      FUZZ_ASSERT(c.rw >= 1 && c.rw <= 3);
      if (c.mode == 2 || c.mode == 3) FUZZ_ASSERT(c.phase != Phase::Counting || c.n >= 2);
    }
  }
  return 0;
}
