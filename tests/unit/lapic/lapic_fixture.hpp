// Shared pieces of the LAPIC tests: a settable guest TSC, a router that
// records messages (and can forward them to an ApicBus), an EOI recorder.
#pragma once

#include <stdint.h>

#include <vector>

#include "devices/irq.hpp"
#include "devices/lapic/apic_bus.hpp"
#include "devices/lapic/lapic.hpp"

namespace lapic_test {

using namespace mamori::devices;
using namespace mamori::devices::lapic;

struct FakeClock final : Clock {
  uint64_t t = 1000;
  uint64_t now() const override { return t; }
};

struct RecordingRouter final : InterruptRouter {
  std::vector<InterruptMessage> msgs;
  InterruptRouter* forward = nullptr;
  bool route(const InterruptMessage& m) override {
    msgs.push_back(m);
    return forward != nullptr ? forward->route(m) : true;
  }
};

struct RecordingEoi final : EoiListener {
  std::vector<uint8_t> vectors;
  void eoi(uint8_t v) override { vectors.push_back(v); }
};

// 1 GHz TSC and a 25 MHz APIC timer: 40 TSC ticks per timer count at
// divide-by-1; no periodic clamp unless a test sets one.
inline Config test_config(uint32_t id = 0, bool bsp = true) {
  Config c;
  c.apic_id = id;
  c.cpu_index = id;
  c.bsp = bsp;
  c.tsc_hz = 1'000'000'000;
  c.timer_hz = 25'000'000;
  c.min_period_ticks = 0;
  return c;
}

struct Fixture {
  FakeClock clock;
  RecordingRouter router;
  RecordingEoi eoi;
  Lapic apic{test_config(), clock, router, &eoi};

  uint32_t rd(uint32_t off) { return static_cast<uint32_t>(apic.mmio_read(off, 4)); }
  void wr(uint32_t off, uint32_t v) { apic.mmio_write(off, 4, v); }
  void enable() { wr(reg::kSvr, svr::kEnable | 0xFF); }
  void to_x2apic() {
    REQUIRE(apic.write_msr(msr::kApicBase, apic.apic_base() | base::kExtd) == MsrStatus::Ok);
  }
  uint64_t rdmsr(uint32_t m) {
    uint64_t v = 0;
    REQUIRE(apic.read_msr(m, v) == MsrStatus::Ok);
    return v;
  }
  void wrmsr(uint32_t m, uint64_t v) { REQUIRE(apic.write_msr(m, v) == MsrStatus::Ok); }
  // Deliver a fixed interrupt as the IOAPIC or another CPU would.
  void fixed(uint8_t v, bool level = false) {
    InterruptMessage m;
    m.vector = v;
    m.trigger = level ? TriggerMode::Level : TriggerMode::Edge;
    apic.accept(m);
  }
  // What a vCPU with IF=1 takes next; acknowledges it.
  int take() {
    Interruptibility st;
    st.rflags_if = true;
    PendingEvent e = apic.highest_pending_injectable(st);
    if (e.kind != EventKind::Fixed) return -1;
    REQUIRE(apic.acknowledge(e.vector));
    return e.vector;
  }
};

}  // namespace lapic_test
