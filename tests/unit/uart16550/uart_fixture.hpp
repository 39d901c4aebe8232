// Helpers for 16550A tests: clock, transmit sink, IRQ line recorder.
#pragma once

#include <string>

#include "devices/legacy_clock.hpp"
#include "devices/uart16550/uart16550.hpp"

namespace mamori::test {

struct UartClock final : devices::Clock {
  uint64_t t = 0;
  uint64_t now() const override { return t; }
  uint64_t hz() const override { return 1'000'000'000; }  // nanoseconds
};

struct StringSink final : devices::uart16550::TxSink {
  std::string out;
  void put(uint8_t b) override { out.push_back(static_cast<char>(b)); }
};

struct UartLine final : devices::IrqLine {
  bool level = false;
  int rising = 0;
  void set_level(bool l) override {
    if (l && !level) ++rising;
    level = l;
  }
};

struct UartFixture {
  UartClock clock;
  StringSink sink;
  UartLine irq;
  devices::uart16550::Uart16550 uart{clock, &irq, &sink};

  static constexpr uint16_t kBase = 0x3F8;
  void out(uint8_t reg, uint8_t v) { uart.write(static_cast<uint16_t>(kBase + reg), 1, v); }
  uint8_t in(uint8_t reg) { return static_cast<uint8_t>(uart.read(static_cast<uint16_t>(kBase + reg), 1)); }
};

}  // namespace mamori::test
