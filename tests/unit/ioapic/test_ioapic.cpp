// IOAPIC register model (82093AA datasheet §3) and pin semantics.
#include <catch.hpp>

#include <vector>

#include "devices/ioapic/ioapic.hpp"

using namespace mamori::devices;
using namespace mamori::devices::ioapic;

namespace {

struct Recorder final : InterruptRouter {
  std::vector<InterruptMessage> msgs;
  bool accepting = true;
  bool route(const InterruptMessage& m) override {
    msgs.push_back(m);
    return accepting;
  }
};

struct Fixture {
  Recorder router;
  Ioapic io{router, Config{2}};
  uint32_t rd(uint8_t idx) {
    io.mmio_write(kIoRegSel, 4, idx);
    return static_cast<uint32_t>(io.mmio_read(kIoWin, 4));
  }
  void wr(uint8_t idx, uint32_t v) {
    io.mmio_write(kIoRegSel, 4, idx);
    io.mmio_write(kIoWin, 4, v);
  }
  // Linux __ioapic_write_entry(): high half first, then low.
  void program(uint32_t pin, uint64_t e) {
    wr(static_cast<uint8_t>(0x11 + 2 * pin), static_cast<uint32_t>(e >> 32));
    wr(static_cast<uint8_t>(0x10 + 2 * pin), static_cast<uint32_t>(e));
  }
};

}  // namespace

TEST_CASE("identification registers (82093AA 3.2.1-3.2.3)", "[ioapic]") {
  Fixture f;
  CHECK(f.rd(index::kId) == 2u << 24);
  CHECK(f.rd(index::kVersion) == 0x00170011);  // 24 entries, version 0x11
  CHECK(f.rd(index::kArbitration) == 2u << 24);
  f.wr(index::kId, 0xFFFFFFFF);
  CHECK(f.rd(index::kId) == 0x0F000000);  // ID is 4 bits
  f.wr(index::kVersion, 0);
  f.wr(index::kArbitration, 0);
  CHECK(f.rd(index::kVersion) == 0x00170011);
  CHECK(f.rd(index::kArbitration) == 0x0F000000);
  CHECK(f.rd(0x03) == 0);
  CHECK(f.rd(0x0F) == 0);
  CHECK(f.rd(0x40) == 0);  // past the table
  CHECK(f.rd(0xFF) == 0);
  f.io.reset();
  CHECK(f.rd(index::kId) == 2u << 24);
}

TEST_CASE("redirection entries: reset masked, writable bits, read-only bits (82093AA 3.2.4)", "[ioapic]") {
  Fixture f;
  for (uint32_t pin = 0; pin < kPins; ++pin) {
    CHECK(f.rd(static_cast<uint8_t>(0x10 + 2 * pin)) == rte::kMasked);
    CHECK(f.rd(static_cast<uint8_t>(0x11 + 2 * pin)) == 0);
  }
  f.wr(0x10, 0xFFFFFFFF);
  f.wr(0x11, 0xFFFFFFFF);
  // Delivery status (12), Remote IRR (14) and 55:17 are not writable.
  CHECK(f.rd(0x10) == 0x0001AFFF);
  CHECK(f.rd(0x11) == 0xFF000000);
  CHECK(f.io.entry(0) == 0xFF0000000001AFFFull);
  CHECK(f.io.entry(kPins) == 0);
}

TEST_CASE("IOREGSEL / IOWIN access sizes", "[ioapic]") {
  Fixture f;
  f.io.mmio_write(kIoRegSel, 1, 0x01);
  CHECK(f.io.mmio_read(kIoRegSel, 1) == 0x01);
  CHECK(f.io.mmio_read(kIoWin, 4) == 0x00170011);
  f.io.mmio_write(kIoRegSel, 4, 0x1234);  // bits 31:8 reserved
  CHECK(f.io.select() == 0x34);
  f.io.mmio_write(kIoRegSel, 4, 0x01);
  CHECK(f.io.mmio_read(kIoWin, 2) == 0);  // IOWIN is 32-bit only
  CHECK(f.io.mmio_read(kIoWin, 1) == 0);
  CHECK(f.io.mmio_read(kIoWin, 8) == 0);
  CHECK(f.io.mmio_read(0x20, 4) == 0);
  CHECK(f.io.mmio_read(0x40, 4) == 0);  // no EOI register in version 0x11
  f.io.mmio_write(kIoRegSel, 4, 0x10);
  f.io.mmio_write(kIoWin, 2, 0x30);
  f.io.mmio_write(kIoRegSel, 8, 0x11);
  CHECK(f.io.select() == 0x10);
  CHECK(f.rd(0x10) == rte::kMasked);
  CHECK(f.io.stats().mmio_rejected == 7);
}

TEST_CASE("edge-triggered pins: one message per rising edge, masked edges are lost", "[ioapic]") {
  Fixture f;
  f.io.set_irq(4, true);  // masked at reset
  f.io.set_irq(4, false);
  CHECK(f.router.msgs.empty());
  f.program(4, (uint64_t{1} << 56) | 0x34);
  CHECK(f.router.msgs.empty());  // the edge happened while masked
  f.io.set_irq(4, true);
  f.io.set_irq(4, true);  // no new edge
  REQUIRE(f.router.msgs.size() == 1);
  const InterruptMessage& m = f.router.msgs[0];
  CHECK(m.vector == 0x34);
  CHECK(m.delivery == DeliveryMode::Fixed);
  CHECK(m.dest_mode == DestinationMode::Physical);
  CHECK(m.trigger == TriggerMode::Edge);
  CHECK(m.destination == 1);
  CHECK_FALSE(m.x2apic_format);
  CHECK(m.source == InterruptMessage::kFromIoapic);
  CHECK(m.shorthand == Shorthand::None);
  f.io.set_irq(4, false);
  f.io.set_irq(4, true);
  CHECK(f.router.msgs.size() == 2);
  CHECK((f.io.entry(4) & rte::kRemoteIrr) == 0);
  f.io.set_irq(24, true);  // no such pin
  f.io.set_irq(0xFFFFFFFF, true);
  CHECK(f.router.msgs.size() == 2);
}

TEST_CASE("level-triggered pins: Remote IRR until EOI, re-delivery while asserted", "[ioapic]") {
  Fixture f;
  f.program(9, (uint64_t{0x03} << 56) | rte::kLevel | rte::kPolarityLow | rte::kDestLogical | (1u << 8) | 0x49);
  f.io.set_irq(9, true);
  REQUIRE(f.router.msgs.size() == 1);
  CHECK(f.router.msgs[0].trigger == TriggerMode::Level);
  CHECK(f.router.msgs[0].delivery == DeliveryMode::LowestPriority);
  CHECK(f.router.msgs[0].dest_mode == DestinationMode::Logical);
  CHECK(f.router.msgs[0].destination == 3);
  CHECK(f.io.entry(9) & rte::kRemoteIrr);
  CHECK(f.rd(0x10 + 18) & rte::kRemoteIrr);
  // Remote IRR cannot be written.
  f.wr(0x10 + 18, static_cast<uint32_t>(f.io.entry(9) & ~rte::kRemoteIrr));
  CHECK(f.io.entry(9) & rte::kRemoteIrr);
  f.io.set_irq(9, false);
  f.io.set_irq(9, true);
  CHECK(f.router.msgs.size() == 1);  // in service: no second message
  f.io.eoi(0x48);                    // other vector: no effect
  CHECK(f.io.entry(9) & rte::kRemoteIrr);
  f.io.eoi(0x49);  // still asserted: delivered again
  CHECK(f.router.msgs.size() == 2);
  CHECK(f.io.entry(9) & rte::kRemoteIrr);
  f.io.set_irq(9, false);
  f.io.eoi(0x49);
  CHECK(f.router.msgs.size() == 2);
  CHECK((f.io.entry(9) & rte::kRemoteIrr) == 0);
  CHECK(f.io.stats().eois == 2);
}

TEST_CASE("unmasking an asserted level pin delivers it; masking holds it", "[ioapic]") {
  Fixture f;
  f.program(11, rte::kMasked | rte::kLevel | 0x5B);
  f.io.set_irq(11, true);
  CHECK(f.router.msgs.empty());
  f.program(11, rte::kLevel | 0x5B);
  CHECK(f.router.msgs.size() == 1);
  // Switching to edge clears a stuck Remote IRR (Linux's eoi_ioapic_pin
  // for version 0x11 toggles the trigger mode for exactly this).
  f.program(11, rte::kMasked | 0x5B);
  CHECK((f.io.entry(11) & rte::kRemoteIrr) == 0);
  f.program(11, rte::kLevel | 0x5B);  // still asserted: delivered again
  CHECK(f.router.msgs.size() == 2);
}

TEST_CASE("NMI, INIT, ExtINT and SMI entries are edge events whatever the trigger bit", "[ioapic]") {
  Fixture f;
  f.program(0, rte::kLevel | (7u << 8));  // ExtINT (virtual wire through the IOAPIC)
  f.io.set_irq(0, true);
  REQUIRE(f.router.msgs.size() == 1);
  CHECK(f.router.msgs[0].delivery == DeliveryMode::ExtInt);
  CHECK(f.router.msgs[0].trigger == TriggerMode::Edge);
  CHECK((f.io.entry(0) & rte::kRemoteIrr) == 0);
  f.io.set_irq(0, false);
  f.io.set_irq(0, true);
  CHECK(f.router.msgs.size() == 2);
  f.program(1, rte::kLevel | (4u << 8));  // NMI
  f.io.set_irq(1, true);
  CHECK(f.router.msgs.back().delivery == DeliveryMode::Nmi);
  CHECK((f.io.entry(1) & rte::kRemoteIrr) == 0);
}

TEST_CASE("the IOAPIC is an IrqChip: lines through ChipPin and IrqFanout", "[ioapic][irq]") {
  Fixture f;
  f.program(2, 0x30);
  ChipPin pin(f.io, 2);
  IrqFanout isa_irq0;  // PIT IRQ0 -> GSI 2 (MADT override) and, say, another chip
  REQUIRE(isa_irq0.add(pin));
  CHECK(f.io.pin_count() == 24);
  isa_irq0.pulse();
  REQUIRE(f.router.msgs.size() == 1);
  CHECK(f.router.msgs[0].vector == 0x30);
  CHECK_FALSE(f.io.line(2));
  ChipPin unbound;
  unbound.raise();  // harmless
  for (size_t i = 1; i < IrqFanout::kMaxLines; ++i) REQUIRE(isa_irq0.add(pin));
  CHECK_FALSE(isa_irq0.add(pin));
}

TEST_CASE("a level message nobody accepts sets no Remote IRR", "[ioapic]") {
  Fixture f;
  f.router.accepting = false;
  f.program(7, rte::kLevel | 0x47);
  f.io.set_irq(7, true);
  REQUIRE(f.router.msgs.size() == 1);
  CHECK((f.io.entry(7) & rte::kRemoteIrr) == 0);
  // Re-programming (e.g. Linux unmasking after the LAPIC is up) retries.
  f.router.accepting = true;
  f.program(7, rte::kLevel | 0x47);
  CHECK(f.router.msgs.size() == 2);
  CHECK(f.io.entry(7) & rte::kRemoteIrr);
}
