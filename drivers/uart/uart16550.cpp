#include "uart16550.hpp"
#include "vmm/arch/cpu.hpp"

namespace mamori::drivers {
namespace {
// Register offsets from the I/O base (PC16550D §8.1).
enum Reg : uint16_t { kData = 0, kIntEnable = 1, kFifoCtl = 2, kLineCtl = 3, kModemCtl = 4, kLineStatus = 5, kScratch = 7 };
constexpr uint16_t kDivisorLow = 0, kDivisorHigh = 1;  // when LCR.DLAB = 1
constexpr uint8_t kLcrDlab = 0x80, kLcr8N1 = 0x03;
constexpr uint8_t kFcrEnableClear = 0x07;              // enable + clear both FIFOs
constexpr uint8_t kMcrDtrRtsOut2 = 0x0B;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20;
constexpr uint32_t kClockBaud = 115200;
}  // namespace

bool Uart16550::init(uint16_t port, uint32_t baud) {
  cpu::outb(port + kScratch, 0x5A);
  if (cpu::inb(port + kScratch) != 0x5A) return false;
  if (baud == 0 || baud > kClockBaud) baud = kClockBaud;
  uint16_t div = static_cast<uint16_t>(kClockBaud / baud);
  port_ = port;
  baud_ = kClockBaud / div;
  cpu::outb(port + kIntEnable, 0);
  cpu::outb(port + kLineCtl, kLcrDlab);
  cpu::outb(port + kDivisorLow, static_cast<uint8_t>(div));
  cpu::outb(port + kDivisorHigh, static_cast<uint8_t>(div >> 8));
  cpu::outb(port + kLineCtl, kLcr8N1);
  cpu::outb(port + kFifoCtl, kFcrEnableClear);
  cpu::outb(port + kModemCtl, kMcrDtrRtsOut2);
  return true;
}

void Uart16550::put(char c) {
  if (!port_) return;
  // Bounded wait: a wedged UART must not hang the VMM.
  for (unsigned i = 0; i < 1000000 && !(cpu::inb(port_ + kLineStatus) & kLsrThrEmpty); ++i) cpu::pause();
  cpu::outb(port_ + kData, static_cast<uint8_t>(c));
}

int Uart16550::try_get() {
  if (!port_) return -1;
  if (!(cpu::inb(port_ + kLineStatus) & kLsrDataReady)) return -1;
  return cpu::inb(port_ + kData);
}

}  // namespace mamori::drivers
