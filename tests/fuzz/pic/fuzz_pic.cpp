// libFuzzer target: random port writes/reads, IRQ line changes and INTA
// cycles against the 8259A pair. Invariants after every step:
//  - no crash, no UB (ASan/UBSan);
//  - the INT output the model drives equals pending(), and pending() is
//    what the priority logic says for the master;
//  - the master's IR2 input equals "the slave requests" (cascade);
//  - an INTA returns a vector of one of the chips (base | 0-7);
//  - state fields stay in range.
#include <stdint.h>
#include <stdlib.h>

#include <initializer_list>

#include "devices/pic/pic.hpp"

using namespace mamori::devices;
using namespace mamori::devices::pic;

#include "tests/fuzz/support/device_fakes.hpp"

namespace {

using Line = mamori::fuzz::EdgeLine;

constexpr uint16_t kPorts[] = {kMasterCmd, kMasterData, kSlaveCmd, kSlaveData, kElcr1, kElcr2, 0x22, 0x4D2};

void check(const PicPair& p, const Line& intr) {
  FUZZ_ASSERT(intr.level == p.pending());
  FUZZ_ASSERT(p.pending() == (chip_request(p.master()) >= 0));
  for (const Chip* c : {&p.master(), &p.slave()}) {
    FUZZ_ASSERT(c->init_state <= 3);
    FUZZ_ASSERT(c->priority_add < 8);
    FUZZ_ASSERT((c->elcr & ~c->elcr_mask) == 0);
    FUZZ_ASSERT((c->vector_base & 7) == 0);
    // A level input's IRR is its line.
    FUZZ_ASSERT((c->irr & c->elcr) == (c->lines & c->elcr));
  }
  const bool slave_req = chip_request(p.slave()) >= 0;
  if (!p.master().single) FUZZ_ASSERT(((p.master().lines >> kCascadeIr) & 1) == slave_req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Line intr;
  PicPair pic(&intr);
  size_t i = 0;
  while (i + 2 <= size) {
    const uint8_t op = data[i], arg = data[i + 1];
    i += 2;
    switch (op & 7) {
      case 0:
      case 1:
        pic.write(kPorts[(op >> 3) & 7], 1, arg);
        break;
      case 2:
        (void)pic.read(kPorts[(op >> 3) & 7], 1);
        break;
      case 3:
      case 4:
        pic.set_irq(arg & 15, arg & 0x80);
        break;
      case 5: {
        const bool was = pic.pending();
        const uint8_t v = pic.acknowledge();
        const uint8_t base = v & 0xF8;
        FUZZ_ASSERT(base == pic.master().vector_base || base == pic.slave().vector_base);
        (void)was;
        break;
      }
      case 6:
        pic.write(kPorts[(op >> 3) & 7], (op >> 6) == 1 ? 2 : 4, arg * 0x01010101u);
        break;
      default:
        if (arg == 0xA5) pic.reset();
        break;
    }
    check(pic, intr);
  }
  return 0;
}
