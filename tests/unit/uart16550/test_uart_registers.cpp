// Register-level tests of the 16550A model (PC16550D datasheet,
// "Register Description" and Table IV).
#include <catch.hpp>

#include "tests/unit/uart16550/uart_fixture.hpp"

using namespace mamori::devices::uart16550;
using mamori::devices::kNever;
using mamori::test::UartFixture;

TEST_CASE("uart: reset values", "[uart]") {
  UartFixture f;
  CHECK(f.in(reg::kIer) == 0);
  CHECK(f.in(reg::kIirFcr) == 0x01);
  CHECK(f.in(reg::kLcr) == 0);
  CHECK(f.in(reg::kMcr) == 0);
  CHECK(f.in(reg::kLsr) == 0x60);
  CHECK(f.in(reg::kMsr) == 0xB0);  // CTS, DSR, DCD of a connected terminal, no deltas
  CHECK_FALSE(f.irq.level);
  CHECK(f.uart.next_event() == kNever);
}

TEST_CASE("uart: divisor latch takes no stray bytes", "[uart]") {
  UartFixture f;
  f.out(reg::kLcr, 0x83);  // DLAB, 8N1
  f.out(reg::kRbrThr, 0x0C);
  f.out(reg::kIer, 0x00);
  CHECK(f.in(reg::kRbrThr) == 0x0C);
  CHECK(f.in(reg::kIer) == 0x00);
  CHECK(f.uart.divisor() == 12);
  CHECK(f.sink.out.empty());
  CHECK(f.uart.ier() == 0);  // DLM write did not reach IER
  f.out(reg::kLcr, 0x03);
  f.out(reg::kRbrThr, 'A');
  CHECK(f.sink.out == "A");
  // A word write at base+0 with DLAB: DLL then DLM.
  f.out(reg::kLcr, 0x83);
  f.uart.write(0x3F8, 2, 0x0180);
  CHECK(f.uart.divisor() == 0x0180);
  CHECK(f.sink.out == "A");
}

TEST_CASE("uart: only the word length bits are sent", "[uart]") {
  UartFixture f;
  f.out(reg::kLcr, 0x02);  // 7 bits
  f.out(reg::kRbrThr, 0xFF);
  f.out(reg::kLcr, 0x00);  // 5 bits
  f.out(reg::kRbrThr, 0xFF);
  REQUIRE(f.sink.out.size() == 2);
  CHECK(static_cast<uint8_t>(f.sink.out[0]) == 0x7F);
  CHECK(static_cast<uint8_t>(f.sink.out[1]) == 0x1F);
}

TEST_CASE("uart: THRE interrupt is raised by ETBEI and by an empty THR, cleared by IIR and THR", "[uart]") {
  UartFixture f;
  f.out(reg::kMcr, mcr::kOut2);
  f.out(reg::kIer, ier::kThre);
  CHECK(f.irq.level);
  CHECK(f.in(reg::kIirFcr) == 0x02);
  CHECK_FALSE(f.irq.level);  // the IIR read reporting THRE cleared it
  CHECK(f.in(reg::kIirFcr) == 0x01);
  f.out(reg::kRbrThr, 'x');  // THR write clears, the byte leaves, THR empty again
  CHECK(f.irq.level);
  CHECK(f.irq.rising == 2);
  // Rewriting IER with ETBEI still set does not raise it again.
  f.in(reg::kIirFcr);
  f.out(reg::kIer, ier::kThre);
  CHECK_FALSE(f.irq.level);
  // Disabling drops it; enabling with THR empty raises it.
  f.out(reg::kIer, 0);
  f.out(reg::kIer, ier::kThre);
  CHECK(f.irq.level);
  f.out(reg::kIer, 0);
  CHECK_FALSE(f.irq.level);
}

TEST_CASE("uart: OUT2 gates the IRQ line; loopback disconnects it", "[uart]") {
  UartFixture f;
  f.out(reg::kIer, ier::kThre);
  CHECK(f.uart.interrupt_id() == iir::kThre);
  CHECK_FALSE(f.irq.level);
  f.out(reg::kMcr, mcr::kOut2);
  CHECK(f.irq.level);
  f.out(reg::kMcr, mcr::kOut2 | mcr::kLoop);
  CHECK_FALSE(f.irq.level);
  CHECK(f.uart.interrupt_id() == iir::kThre);
}

TEST_CASE("uart: receive without FIFOs, overrun overwrites RBR", "[uart]") {
  UartFixture f;
  f.out(reg::kLcr, 0x03);  // 8 data bits (reset is 5)
  f.out(reg::kMcr, mcr::kOut2);
  f.out(reg::kIer, ier::kRda | ier::kRls);
  CHECK(f.uart.rx_space() == 1);
  CHECK(f.uart.push_input('a'));
  CHECK(f.irq.level);
  CHECK(f.in(reg::kIirFcr) == 0x04);
  CHECK((f.in(reg::kLsr) & 0x01) == 0x01);
  CHECK_FALSE(f.uart.push_input('b'));  // overrun
  CHECK(f.in(reg::kIirFcr) == 0x06);    // line status beats data
  CHECK(f.in(reg::kLsr) == 0x63);       // DR | OE | THRE | TEMT; read clears OE
  CHECK(f.in(reg::kLsr) == 0x61);
  CHECK(f.in(reg::kIirFcr) == 0x04);
  CHECK(f.in(reg::kRbrThr) == 'b');
  CHECK(f.in(reg::kLsr) == 0x60);
  CHECK_FALSE(f.irq.level);
  CHECK(f.in(reg::kRbrThr) == 'b');  // an empty RBR reads its last byte
  CHECK(f.uart.overruns() == 1);
}

TEST_CASE("uart: FIFO mode, trigger level, character timeout", "[uart]") {
  UartFixture f;
  f.out(reg::kLcr, 0x03);
  f.out(reg::kIirFcr, 0xC7);  // enable, reset both, trigger 14
  f.out(reg::kMcr, mcr::kOut2);
  f.out(reg::kIer, ier::kRda);
  CHECK((f.in(reg::kIirFcr) & 0xC0) == 0xC0);
  CHECK(f.uart.char_time() == 86805);  // 10 bits at 115200 baud, in ns
  for (int i = 0; i < 13; ++i) f.uart.push_input(static_cast<uint8_t>('a' + i));
  CHECK_FALSE(f.irq.level);
  const uint64_t deadline = f.uart.next_event();
  CHECK(deadline == 4 * 86805);
  f.clock.t = deadline - 1;
  f.uart.update();
  CHECK_FALSE(f.irq.level);
  f.clock.t = deadline;
  f.uart.update();
  CHECK(f.irq.level);
  CHECK(f.uart.next_event() == kNever);
  CHECK(f.in(reg::kIirFcr) == 0xCC);
  CHECK(f.in(reg::kRbrThr) == 'a');  // reading restarts the timeout
  CHECK_FALSE(f.irq.level);
  CHECK(f.uart.next_event() == deadline + 4 * 86805);
  f.uart.push_input('n');
  f.uart.push_input('o');  // 14 bytes: trigger level
  CHECK(f.in(reg::kIirFcr) == 0xC4);
  f.uart.push_input('p');
  f.uart.push_input('q');  // 16: full
  CHECK(f.uart.rx_space() == 0);
  CHECK_FALSE(f.uart.push_input('r'));  // lost, the FIFO is kept
  CHECK((f.in(reg::kLsr) & 0x02) == 0x02);
  std::string got;
  while (f.in(reg::kLsr) & 0x01) got.push_back(static_cast<char>(f.in(reg::kRbrThr)));
  CHECK(got == "bcdefghijklmnopq");
}

TEST_CASE("uart: trigger levels 1, 4, 8, 14", "[uart]") {
  const uint8_t fcr[] = {0x01, 0x41, 0x81, 0xC1};
  const int level[] = {1, 4, 8, 14};
  for (int k = 0; k < 4; ++k) {
    UartFixture f;
    f.out(reg::kIirFcr, fcr[k]);
    f.out(reg::kIer, ier::kRda);
    for (int i = 1; i <= 16; ++i) {
      f.uart.push_input('x');
      CHECK((f.uart.interrupt_id() == iir::kRda) == (i >= level[k]));
    }
  }
}

TEST_CASE("uart: FCR0 gates the other FCR bits; changing it clears the FIFOs", "[uart]") {
  UartFixture f;
  f.out(reg::kIirFcr, 0x01);
  f.uart.push_input('1');
  f.uart.push_input('2');
  f.out(reg::kIirFcr, 0x03);  // RCVR FIFO reset
  CHECK(f.uart.rx_count() == 0);
  f.uart.push_input('3');
  f.out(reg::kIirFcr, 0x00);  // FIFOs off: cleared
  CHECK(f.uart.rx_count() == 0);
  CHECK_FALSE(f.uart.fifo_enabled());
  CHECK((f.in(reg::kIirFcr) & 0xC0) == 0);
  f.out(reg::kIirFcr, 0xC0);  // trigger bits without FCR0: ignored
  f.out(reg::kIirFcr, 0x01);
  f.out(reg::kIer, ier::kRda);
  f.uart.push_input('4');
  CHECK(f.uart.interrupt_id() == iir::kRda);  // trigger level is still 1
}

TEST_CASE("uart: IIR priority order", "[uart]") {
  UartFixture f;
  f.out(reg::kMcr, mcr::kOut2);
  f.out(reg::kIer, 0x0F);
  f.uart.push_input('a');
  f.uart.push_input('b');                // overrun (no FIFOs)
  f.uart.set_modem_inputs(msr::kCts);    // DSR and DCD drop: modem status change
  CHECK(f.in(reg::kIirFcr) == 0x06);     // line status
  f.in(reg::kLsr);
  CHECK(f.in(reg::kIirFcr) == 0x04);     // received data
  f.in(reg::kRbrThr);
  CHECK(f.in(reg::kIirFcr) == 0x02);     // THR empty (and this read clears it)
  CHECK(f.in(reg::kIirFcr) == 0x00);     // modem status
  CHECK(f.irq.level);
  CHECK(f.in(reg::kMsr) == (0x10 | 0x02 | 0x08));
  CHECK(f.in(reg::kIirFcr) == 0x01);
  CHECK_FALSE(f.irq.level);
}

TEST_CASE("uart: modem status deltas; TERI on the trailing edge of RI", "[uart]") {
  UartFixture f;
  f.uart.set_modem_inputs(0xF0);  // RI rises, the rest unchanged
  CHECK(f.in(reg::kMsr) == 0xF0);  // no TERI on a leading edge
  f.uart.set_modem_inputs(0xB0);
  CHECK(f.in(reg::kMsr) == (0xB0 | msr::kTeri));
  f.uart.set_modem_inputs(0x00);
  CHECK(f.in(reg::kMsr) == (msr::kDcts | msr::kDdsr | msr::kDdcd));
  CHECK(f.in(reg::kMsr) == 0x00);
}

TEST_CASE("uart: loopback mode", "[uart]") {
  UartFixture f;
  f.out(reg::kLcr, 0x03);
  f.out(reg::kMcr, mcr::kLoop | mcr::kOut2 | mcr::kRts);
  CHECK((f.in(reg::kMsr) & 0xF0) == (msr::kDcd | msr::kCts));
  f.out(reg::kMcr, mcr::kLoop | mcr::kDtr | mcr::kOut1);
  CHECK((f.in(reg::kMsr) & 0xF0) == (msr::kDsr | msr::kRi));
  f.out(reg::kRbrThr, 'L');
  CHECK(f.sink.out.empty());
  CHECK(f.in(reg::kLsr) & 0x01);
  CHECK(f.in(reg::kRbrThr) == 'L');
  CHECK_FALSE(f.uart.push_input('z'));  // serial input disconnected
  CHECK(f.uart.rx_count() == 0);
  f.out(reg::kMcr, 0);
  f.out(reg::kRbrThr, 'M');
  CHECK(f.sink.out == "M");
}

TEST_CASE("uart: scratch register, read-as-zero bits, floating ports", "[uart]") {
  UartFixture f;
  f.out(reg::kScr, 0x5A);
  CHECK(f.in(reg::kScr) == 0x5A);
  f.out(reg::kIer, 0xFF);
  CHECK(f.in(reg::kIer) == 0x0F);
  f.out(reg::kMcr, 0xFF);
  CHECK(f.in(reg::kMcr) == 0x1F);
  f.out(reg::kLsr, 0x00);  // read-only
  CHECK(f.in(reg::kLsr) & 0x60);
  CHECK(f.uart.read(0x3F7, 1) == 0xFF);
  CHECK(f.uart.read(0x400, 1) == 0xFF);
  CHECK(f.uart.handles(0x3FF));
  CHECK_FALSE(f.uart.handles(0x3F7));
}

TEST_CASE("uart: master reset", "[uart]") {
  UartFixture f;
  f.out(reg::kMcr, mcr::kOut2);
  f.out(reg::kIer, ier::kThre);
  CHECK(f.irq.level);
  f.out(reg::kScr, 7);
  f.uart.reset();
  CHECK_FALSE(f.irq.level);
  CHECK(f.in(reg::kIer) == 0);
  CHECK(f.in(reg::kScr) == 7);  // SCR is not reset
}
