// libFuzzer target: random register writes/reads, input bytes, modem
// input changes and clock advances against the 16550A model. Invariants:
//  - no crash, no UB (ASan/UBSan);
//  - the IRQ line is "an interrupt is identified && MCR.OUT2 && !LOOP";
//  - the receiver never holds more than its capacity (16 / 1 byte);
//  - a write with DLAB=1, or in loopback, never reaches the sink;
//  - IIR bits 7-6 say FIFO mode exactly when FIFOs are enabled, bits 5-4 are 0;
//  - IER bits 7-4 and MCR bits 7-5 read 0; LSR.THRE and TEMT are set.
#include <stdint.h>
#include <stdlib.h>

#include "devices/uart16550/uart16550.hpp"

using namespace mamori::devices;
using namespace mamori::devices::uart16550;

#include "tests/fuzz/support/device_fakes.hpp"

namespace {

using mamori::fuzz::TestClock;
using Line = mamori::fuzz::EdgeLine;

struct Sink final : TxSink {
  uint64_t n = 0;
  void put(uint8_t) override { ++n; }
};

void check(Uart16550& u, const Line& irq) {
  const bool intr = u.interrupt_id() != iir::kNone;
  FUZZ_ASSERT(irq.level == u.irq_level());
  FUZZ_ASSERT(irq.level == (intr && (u.mcr() & mcr::kOut2) && !(u.mcr() & mcr::kLoop)));
  FUZZ_ASSERT(u.rx_count() <= (u.fifo_enabled() ? kFifoSize : 1));
  FUZZ_ASSERT((u.ier() & 0xF0) == 0);
  FUZZ_ASSERT((u.mcr() & 0xE0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TestClock clock;
  Line irq;
  Sink sink;
  Uart16550 u(clock, &irq, &sink);
  size_t i = 0;
  while (i + 2 <= size) {
    const uint8_t op = data[i], arg = data[i + 1];
    i += 2;
    const uint8_t off = (op >> 3) & 7;
    switch (op & 7) {
      case 0:
      case 1: {
        const uint64_t before = sink.n;
        const bool quiet = off == 0 && ((u.lcr() & lcr::kDlab) || (u.mcr() & mcr::kLoop));
        u.write(static_cast<uint16_t>(kCom1 + off), 1, arg);
        if (quiet) FUZZ_ASSERT(sink.n == before);
        break;
      }
      case 2: {
        const uint8_t v = static_cast<uint8_t>(u.read(static_cast<uint16_t>(kCom1 + off), 1));
        if (off == reg::kIirFcr) {
          FUZZ_ASSERT((v & 0x30) == 0);
          FUZZ_ASSERT(((v & 0xC0) == 0xC0) == u.fifo_enabled());
          FUZZ_ASSERT((v & 0xC0) == 0xC0 || (v & 0xC0) == 0);
        }
        if (off == reg::kLsr) FUZZ_ASSERT((v & 0x60) == 0x60);
        break;
      }
      case 3:
      case 4:
        (void)u.push_input(arg);
        break;
      case 5:
        // Time passes; the line is brought up to date by the next access
        // or update() (the timeout is level state computed from the clock).
        clock.t += uint64_t{arg} << (op >> 5) * 3;
        continue;
      case 6: {
        const uint64_t e = u.next_event();
        if (e != kNever && e > clock.t) clock.t = e;
        u.update();
        FUZZ_ASSERT(u.next_event() == kNever || u.next_event() > clock.t);
        break;
      }
      default:
        if (arg == 0xA5)
          u.reset();
        else
          u.set_modem_inputs(arg);
        break;
    }
    check(u, irq);
  }
  return 0;
}
