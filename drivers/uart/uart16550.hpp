// 16550 UART (polled). Register layout: PC16550D datasheet, §8.
#pragma once
#include <stdint.h>

namespace mamori::drivers {

class Uart16550 {
 public:
  // port: I/O base (0x3F8 = COM1). baud: divisor = 115200 / baud.
  // Returns false if no UART answers at that port (scratch register test).
  bool init(uint16_t port, uint32_t baud);
  void put(char c);
  // Non-blocking: returns -1 when no byte is waiting.
  int try_get();
  uint16_t port() const { return port_; }
  uint32_t baud() const { return baud_; }

 private:
  uint16_t port_ = 0;
  uint32_t baud_ = 0;
};

}  // namespace mamori::drivers
