// What the device-model fuzz targets (tests/fuzz/{pic,pit,rtc,uart16550})
// give a model: a clock the input advances, and an interrupt line that
// checks the models' contract (devices/irq.hpp: only changes are reported).
#pragma once
#include <stdint.h>

#include "devices/irq.hpp"
#include "devices/legacy_clock.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"

namespace mamori::fuzz {

struct TestClock final : devices::Clock {
  uint64_t t = 0, rate = 1'000'000'000;  // ns unless a target picks a rate
  uint64_t now() const override { return t; }
  uint64_t hz() const override { return rate; }
};

struct EdgeLine final : devices::IrqLine {
  bool level = false;
  void set_level(bool l) override {
    FUZZ_ASSERT(l != level);  // a model reports changes only
    level = l;
  }
};

}  // namespace mamori::fuzz
