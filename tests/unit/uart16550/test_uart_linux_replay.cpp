// Replays of Linux's 8250 driver (drivers/tty/serial/8250/8250_port.c)
// against the model: autoconfig() with autoconfig_16550a() and
// size_fifo(), serial8250_do_startup()'s THRE/TXEN tests, set_termios'
// divisor write, and interrupt-driven TX/RX through serial8250_handle_irq().
#include <catch.hpp>

#include <string>

#include "tests/unit/uart16550/uart_fixture.hpp"

using namespace mamori::devices::uart16550;
using mamori::test::UartFixture;

namespace {

// Register names as include/uapi/linux/serial_reg.h spells them.
constexpr uint8_t UART_RX = 0, UART_TX = 0, UART_DLL = 0, UART_DLM = 1, UART_IER = 1, UART_IIR = 2, UART_FCR = 2,
                  UART_EFR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7;
constexpr uint8_t UART_LCR_CONF_MODE_A = 0x80, UART_LCR_CONF_MODE_B = 0xBF, UART_LCR_WLEN8 = 0x03;
constexpr uint8_t UART_MCR_LOOP = 0x10, UART_MCR_OUT2 = 0x08, UART_MCR_RTS = 0x02, UART_MCR_DTR = 0x01;
constexpr uint8_t UART_MSR_STATUS_BITS = 0xF0, UART_MSR_DCD = 0x80, UART_MSR_CTS = 0x10;
constexpr uint8_t UART_IER_ALL_INTR = 0x0F, UART_IER_UUE = 0x40, UART_IER_THRI = 0x02, UART_IER_RDI = 0x01,
                  UART_IER_RLSI = 0x04;
constexpr uint8_t UART_FCR_ENABLE_FIFO = 0x01, UART_FCR_CLEAR_RCVR = 0x02, UART_FCR_CLEAR_XMIT = 0x04,
                  UART_FCR7_64BYTE = 0x20, UART_FCR_R_TRIG_10 = 0x80;
constexpr uint8_t UART_IIR_NO_INT = 0x01, UART_IIR_FIFO_ENABLED_16750 = 0xE0, UART_IIR_FIFO_ENABLED_16550A = 0xC0;
constexpr uint8_t UART_LSR_DR = 0x01, UART_LSR_BI = 0x10, UART_LSR_THRE = 0x20, UART_LSR_TEMT = 0x40;

enum class Type { Unknown, P8250, P16450, P16550, P16550A, P16650, P16750, Other };

struct Linux8250 {
  UartFixture& f;
  Type type = Type::Unknown;
  int fifosize = 1;
  bool bug_thre = false, bug_txen = false;
  uint8_t ier = 0;
  std::string tx_buf;  // the tty's circular buffer
  size_t tx_pos = 0;
  std::string received;

  uint8_t serial_in(uint8_t r) { return f.in(r); }
  void serial_out(uint8_t r, uint8_t v) { f.out(r, v); }
  unsigned serial_dl_read() { return serial_in(UART_DLL) | (serial_in(UART_DLM) << 8); }
  void serial_dl_write(unsigned v) {
    serial_out(UART_DLL, v & 0xff);
    serial_out(UART_DLM, (v >> 8) & 0xff);
  }

  int size_fifo() {
    const uint8_t old_lcr = serial_in(UART_LCR);
    serial_out(UART_LCR, 0);
    const uint8_t old_fcr = serial_in(UART_FCR);
    const uint8_t old_mcr = serial_in(UART_MCR);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    serial_out(UART_MCR, UART_MCR_LOOP);
    serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    const unsigned old_dl = serial_dl_read();
    serial_dl_write(0x0001);
    serial_out(UART_LCR, UART_LCR_WLEN8);
    for (int count = 0; count < 256; count++) serial_out(UART_TX, static_cast<uint8_t>(count));
    f.clock.t += 20'000'000;  // mdelay(20)
    int count;
    for (count = 0; (serial_in(UART_LSR) & UART_LSR_DR) && (count < 256); count++) serial_in(UART_RX);
    serial_out(UART_FCR, old_fcr);
    serial_out(UART_MCR, old_mcr);
    serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    serial_dl_write(old_dl);
    serial_out(UART_LCR, old_lcr);
    return count;
  }

  void autoconfig_16550a() {
    type = Type::P16550A;
    serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    if (serial_in(UART_EFR) == 0) {  // EFR under DLAB: ST16C650V1 only
      type = Type::P16650;
      return;
    }
    serial_out(UART_LCR, UART_LCR_CONF_MODE_B);
    if (serial_in(UART_EFR) == 0) {  // EFRv2
      type = Type::P16650;
      return;
    }
    // National Semiconductor SuperIO: EXCR1 in bank 2 mirrors MCR.LOOP?
    serial_out(UART_LCR, 0);
    const uint8_t status1 = serial_in(UART_MCR);
    serial_out(UART_LCR, 0xE0);
    uint8_t status2 = serial_in(0x02);
    if (!((status2 ^ status1) & UART_MCR_LOOP)) {
      serial_out(UART_LCR, 0);
      serial_out(UART_MCR, status1 ^ UART_MCR_LOOP);
      serial_out(UART_LCR, 0xE0);
      status2 = serial_in(0x02);
      serial_out(UART_LCR, 0);
      serial_out(UART_MCR, status1);
      if ((status2 ^ status1) & UART_MCR_LOOP) {
        type = Type::Other;
        return;
      }
    }
    // TI16750: IIR bit 5 with 64-byte FIFO enabled under DLAB.
    serial_out(UART_LCR, 0);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
    const uint8_t s1 = serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED_16750;
    serial_out(UART_FCR, 0);
    serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
    const uint8_t s2 = serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED_16750;
    serial_out(UART_FCR, 0);
    serial_out(UART_LCR, 0);
    if (s1 == UART_IIR_FIFO_ENABLED_16550A && s2 == UART_IIR_FIFO_ENABLED_16750) {
      type = Type::P16750;
      return;
    }
    // XScale: IER bit 6 (UUE) writable?
    const uint8_t iersave = serial_in(UART_IER);
    serial_out(UART_IER, iersave & ~UART_IER_UUE);
    if (!(serial_in(UART_IER) & UART_IER_UUE)) {
      serial_out(UART_IER, iersave | UART_IER_UUE);
      if (serial_in(UART_IER) & UART_IER_UUE) type = Type::Other;
    }
    serial_out(UART_IER, iersave);
    if (type == Type::P16550A && size_fifo() == 64) type = Type::Other;  // U6_16550A
  }

  // autoconfig(): returns false when "there's nothing here".
  bool autoconfig() {
    const uint8_t scratch = serial_in(UART_IER);
    serial_out(UART_IER, 0);
    const uint8_t scratch2 = serial_in(UART_IER) & UART_IER_ALL_INTR;
    serial_out(UART_IER, UART_IER_ALL_INTR);
    const uint8_t scratch3 = serial_in(UART_IER) & UART_IER_ALL_INTR;
    serial_out(UART_IER, scratch);
    if (scratch2 != 0 || scratch3 != UART_IER_ALL_INTR) return false;
    const uint8_t save_mcr = serial_in(UART_MCR);
    const uint8_t save_lcr = serial_in(UART_LCR);
    // The loopback test (not skipped: Linux skips it only for UPF_SKIP_TEST).
    serial_out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    const uint8_t status1 = serial_in(UART_MSR) & UART_MSR_STATUS_BITS;
    serial_out(UART_MCR, save_mcr);
    if (status1 != (UART_MSR_DCD | UART_MSR_CTS)) return false;
    serial_out(UART_LCR, UART_LCR_CONF_MODE_B);
    serial_out(UART_EFR, 0);
    serial_out(UART_LCR, 0);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    const uint8_t iir = serial_in(UART_IIR);
    switch (iir >> 6) {
      case 0: type = Type::P16450; break;  // (autoconfig_8250 tells 8250 from 16450 by SCR)
      case 1: type = Type::Unknown; break;
      case 2: type = Type::P16550; break;
      case 3: autoconfig_16550a(); break;
    }
    serial_out(UART_LCR, save_lcr);
    fifosize = type == Type::P16550A ? 16 : 1;
    // Reset the UART: MCR, serial8250_clear_fifos, RX, clear IER.
    serial_out(UART_MCR, save_mcr);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    serial_out(UART_FCR, 0);
    serial_in(UART_RX);
    serial_out(UART_IER, 0);
    return true;
  }

  void set_termios_115200_8n1() {
    serial_out(UART_LCR, UART_LCR_WLEN8 | UART_LCR_CONF_MODE_A);  // DLAB
    serial_dl_write(1);
    serial_out(UART_LCR, UART_LCR_WLEN8);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10);
  }

  // serial8250_do_startup() (the parts that talk to the chip).
  void startup() {
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
    serial_out(UART_FCR, 0);
    serial_in(UART_LSR);
    serial_in(UART_RX);
    serial_in(UART_IIR);
    serial_in(UART_MSR);
    if (serial_in(UART_LSR) == 0xff) return;  // "LSR safety check"
    // The THRE test: does the UART re-assert THRE when ETBEI is set again?
    serial_out(UART_IER, UART_IER_THRI);
    const uint8_t iir1 = serial_in(UART_IIR);
    serial_out(UART_IER, 0);
    serial_out(UART_IER, UART_IER_THRI);
    const uint8_t iir = serial_in(UART_IIR);
    serial_out(UART_IER, 0);
    if (!(iir1 & UART_IIR_NO_INT) && (iir & UART_IIR_NO_INT)) bug_thre = true;
    serial_out(UART_LCR, UART_LCR_WLEN8);
    serial_out(UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR);  // set_mctrl + OUT2 (PC)
    // The TXEN test: is an interrupt signalled at once when THRI is set?
    serial_out(UART_IER, UART_IER_THRI);
    const uint8_t lsr = serial_in(UART_LSR);
    const uint8_t iir2 = serial_in(UART_IIR);
    serial_out(UART_IER, 0);
    if ((lsr & UART_LSR_TEMT) && (iir2 & UART_IIR_NO_INT)) bug_txen = true;
    // Clear interrupt registers again, then enable RX interrupts.
    serial_in(UART_LSR);
    serial_in(UART_RX);
    serial_in(UART_IIR);
    serial_in(UART_MSR);
    ier = UART_IER_RLSI | UART_IER_RDI;
    serial_out(UART_IER, ier);
  }

  void start_tx(const std::string& s) {
    tx_buf += s;
    if (!(ier & UART_IER_THRI)) {
      ier |= UART_IER_THRI;
      serial_out(UART_IER, ier);
    }
  }

  // serial8250_handle_irq(); returns whether the port had an interrupt.
  bool handle_irq() {
    const uint8_t iir = serial_in(UART_IIR);
    if (iir & UART_IIR_NO_INT) return false;
    uint8_t status = serial_in(UART_LSR);
    if (status & (UART_LSR_DR | UART_LSR_BI)) {
      int max_count = 256;
      do {
        received.push_back(static_cast<char>(serial_in(UART_RX)));
        status = serial_in(UART_LSR);
      } while ((status & (UART_LSR_DR | UART_LSR_BI)) && --max_count);
    }
    serial_in(UART_MSR);  // serial8250_modem_status
    if ((status & UART_LSR_THRE) && (ier & UART_IER_THRI)) {
      int count = fifosize;  // tx_loadsz
      do {
        if (tx_pos == tx_buf.size()) break;
        serial_out(UART_TX, static_cast<uint8_t>(tx_buf[tx_pos++]));
      } while (--count > 0);
      if (tx_pos == tx_buf.size()) {  // __stop_tx
        ier &= static_cast<uint8_t>(~UART_IER_THRI);
        serial_out(UART_IER, ier);
      }
    }
    return true;
  }

  // serial8250_interrupt(): runs while the line is asserted at the CPU.
  int interrupt() {
    int passes = 0;
    while (handle_irq() && ++passes < 512) {
    }
    return passes;
  }
};

}  // namespace

TEST_CASE("uart linux: autoconfig finds a 16550A with a 16-byte FIFO and prints nothing", "[uart][linux]") {
  UartFixture f;
  Linux8250 linux_{f};
  REQUIRE(linux_.autoconfig());
  CHECK(linux_.type == Type::P16550A);
  CHECK(linux_.size_fifo() == 16);
  CHECK(f.sink.out.empty());  // 256 loopback bytes and divisor writes never reach the console
  CHECK_FALSE(f.irq.level);
  CHECK(f.uart.ier() == 0);
  CHECK(f.uart.mcr() == 0);
}

TEST_CASE("uart linux: startup passes the THRE and TXEN tests; set_termios is silent", "[uart][linux]") {
  UartFixture f;
  Linux8250 linux_{f};
  REQUIRE(linux_.autoconfig());
  linux_.startup();
  CHECK_FALSE(linux_.bug_thre);
  CHECK_FALSE(linux_.bug_txen);
  linux_.set_termios_115200_8n1();
  CHECK(f.uart.divisor() == 1);
  CHECK(f.sink.out.empty());
  CHECK_FALSE(f.irq.level);
}

TEST_CASE("uart linux: interrupt-driven transmit", "[uart][linux]") {
  UartFixture f;
  Linux8250 linux_{f};
  REQUIRE(linux_.autoconfig());
  linux_.startup();
  linux_.set_termios_115200_8n1();
  const std::string msg = "Debian GNU/Linux 12 mamori ttyS0\r\n\r\nmamori login: ";
  linux_.start_tx(msg);
  int interrupts = 0;
  while (f.irq.level && interrupts < 100) {
    linux_.interrupt();
    ++interrupts;
  }
  CHECK(f.sink.out == msg);
  CHECK(interrupts == 1);  // one IRQ; the handler loops over IIR until done
  CHECK_FALSE(f.irq.level);
  CHECK((f.uart.ier() & UART_IER_THRI) == 0);
  // The next write starts a new interrupt.
  linux_.start_tx("x");
  CHECK(f.irq.level);
  linux_.interrupt();
  CHECK(f.sink.out == msg + "x");
}

TEST_CASE("uart linux: interrupt-driven receive of typed input (timeout and trigger)", "[uart][linux]") {
  UartFixture f;
  Linux8250 linux_{f};
  REQUIRE(linux_.autoconfig());
  linux_.startup();
  linux_.set_termios_115200_8n1();  // RX trigger 8
  const uint64_t probe_overruns = f.uart.overruns();  // size_fifo's 256 loopback bytes
  for (char c : std::string("ls\n")) REQUIRE(f.uart.push_input(static_cast<uint8_t>(c)));
  CHECK_FALSE(f.irq.level);  // below the trigger: waits for the timeout
  const uint64_t e = f.uart.next_event();
  REQUIRE(e != mamori::devices::kNever);
  f.clock.t = e;
  f.uart.update();
  REQUIRE(f.irq.level);
  linux_.interrupt();
  CHECK(linux_.received == "ls\n");
  CHECK_FALSE(f.irq.level);
  // A pasted line: the trigger level interrupts at once, the rest by timeout.
  const std::string paste = "echo hello from the guest shell\n";
  size_t fed = 0;
  while (fed < paste.size()) {
    while (fed < paste.size() && f.uart.rx_space() > 0) f.uart.push_input(static_cast<uint8_t>(paste[fed++]));
    if (!f.irq.level) {
      f.clock.t = f.uart.next_event();
      f.uart.update();
    }
    REQUIRE(f.irq.level);
    linux_.interrupt();
  }
  if (f.uart.rx_count()) {
    f.clock.t = f.uart.next_event();
    f.uart.update();
    linux_.interrupt();
  }
  CHECK(linux_.received == "ls\n" + paste);
  CHECK(f.uart.overruns() == probe_overruns);
}
