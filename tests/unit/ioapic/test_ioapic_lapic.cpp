// The IOAPIC and LAPICs together through the APIC bus, with Linux's
// sequences: redirection programming, a level-triggered interrupt ended by
// the LAPIC EOI broadcast (Remote IRR), edge timer ticks, x2APIC targets.
#include <catch.hpp>

#include <memory>
#include <vector>

#include "devices/ioapic/ioapic.hpp"
#include "devices/lapic/apic_bus.hpp"

using namespace mamori::devices;
using namespace mamori::devices::lapic;
using mamori::devices::ioapic::Ioapic;
namespace rte = mamori::devices::ioapic::rte;

namespace {

struct Tsc final : Clock {
  uint64_t t = 0;
  uint64_t now() const override { return t; }
};

struct Platform {
  Tsc tsc;
  ApicBus bus;
  Ioapic io{bus};
  std::unique_ptr<Lapic> cpu[2];
  Platform() {
    for (uint32_t i = 0; i < 2; ++i) {
      Config c;
      c.apic_id = i;
      c.cpu_index = i;
      c.bsp = i == 0;
      cpu[i] = std::make_unique<Lapic>(c, tsc, bus, &bus);
      REQUIRE(bus.attach(*cpu[i]));
      cpu[i]->mmio_write(reg::kSvr, 4, 0x1FF);
    }
    bus.set_eoi_listener(&io);
  }
  void program(uint32_t pin, uint64_t e) {
    io.mmio_write(mamori::devices::ioapic::kIoRegSel, 4, 0x11 + 2 * pin);
    io.mmio_write(mamori::devices::ioapic::kIoWin, 4, static_cast<uint32_t>(e >> 32));
    io.mmio_write(mamori::devices::ioapic::kIoRegSel, 4, 0x10 + 2 * pin);
    io.mmio_write(mamori::devices::ioapic::kIoWin, 4, static_cast<uint32_t>(e));
  }
  int take(uint32_t c) {
    Interruptibility st;
    st.rflags_if = true;
    PendingEvent e = cpu[c]->highest_pending_injectable(st);
    if (e.kind != EventKind::Fixed) return -1;
    REQUIRE(cpu[c]->acknowledge(e.vector));
    return e.vector;
  }
};

}  // namespace

TEST_CASE("level interrupt: IOAPIC Remote IRR cleared by the LAPIC EOI broadcast", "[ioapic][lapic][linux]") {
  Platform p;
  // A PCI-style level, active-low line on GSI 16 to CPU 1, vector 0x41.
  p.program(16, (uint64_t{1} << 56) | rte::kLevel | rte::kPolarityLow | 0x41);
  p.io.set_irq(16, true);
  CHECK(p.cpu[1]->irr(0x41));
  CHECK(p.cpu[1]->tmr(0x41));
  CHECK_FALSE(p.cpu[0]->irr(0x41));
  REQUIRE(p.take(1) == 0x41);
  // The handler quiets the device, then EOIs: the line is low, nothing more.
  p.io.set_irq(16, false);
  p.cpu[1]->mmio_write(reg::kEoi, 4, 0);
  CHECK((p.io.entry(16) & rte::kRemoteIrr) == 0);
  CHECK_FALSE(p.cpu[1]->irr(0x41));
  // A handler that EOIs while the device still asserts gets it again.
  p.io.set_irq(16, true);
  REQUIRE(p.take(1) == 0x41);
  p.cpu[1]->mmio_write(reg::kEoi, 4, 0);
  CHECK(p.cpu[1]->irr(0x41));
  CHECK(p.io.entry(16) & rte::kRemoteIrr);
}

TEST_CASE("edge timer through GSI 2 (ISA IRQ0 override) to all CPUs logically", "[ioapic][lapic][linux]") {
  Platform p;
  for (uint32_t i = 0; i < 2; ++i) p.cpu[i]->mmio_write(reg::kLdr, 4, (1u << i) << 24);
  p.program(2, (uint64_t{0x01} << 56) | rte::kDestLogical | 0x30);
  ChipPin gsi2(p.io, 2);
  gsi2.pulse();
  CHECK(p.cpu[0]->irr(0x30));
  CHECK_FALSE(p.cpu[0]->tmr(0x30));
  CHECK_FALSE(p.cpu[1]->irr(0x30));
  REQUIRE(p.take(0) == 0x30);
  p.cpu[0]->mmio_write(reg::kEoi, 4, 0);
  CHECK(p.io.stats().eois == 0);  // edge: no EOI broadcast
}

TEST_CASE("IOAPIC messages reach x2APIC-mode LAPICs (8-bit destinations)", "[ioapic][lapic][x2apic]") {
  Platform p;
  for (auto& c : p.cpu) REQUIRE(c->write_msr(msr::kApicBase, c->apic_base() | base::kExtd) == MsrStatus::Ok);
  for (auto& c : p.cpu) REQUIRE(c->write_msr(0x80F, 0x1FF) == MsrStatus::Ok);
  p.program(4, (uint64_t{1} << 56) | rte::kLevel | 0x24);
  p.io.set_irq(4, true);
  CHECK(p.cpu[1]->irr(0x24));
  REQUIRE(p.take(1) == 0x24);
  p.io.set_irq(4, false);
  REQUIRE(p.cpu[1]->write_msr(0x80B, 0) == MsrStatus::Ok);
  CHECK((p.io.entry(4) & rte::kRemoteIrr) == 0);
  p.program(5, (uint64_t{0xFF} << 56) | 0x25);  // broadcast
  p.io.set_irq(5, true);
  CHECK(p.cpu[0]->irr(0x25));
  CHECK(p.cpu[1]->irr(0x25));
}

TEST_CASE("Linux's version-0x11 EOI workaround: toggling the trigger mode clears Remote IRR", "[ioapic][lapic][linux]") {
  Platform p;
  p.program(10, rte::kLevel | 0x4A);
  p.io.set_irq(10, true);
  REQUIRE(p.take(0) == 0x4A);
  p.io.set_irq(10, false);
  // __eoi_ioapic_pin() for version < 0x20: mask + edge, then restore.
  p.program(10, rte::kMasked | 0x4A);
  p.program(10, rte::kLevel | 0x4A);
  CHECK((p.io.entry(10) & rte::kRemoteIrr) == 0);
  p.cpu[0]->mmio_write(reg::kEoi, 4, 0);  // the LAPIC EOI finds nothing left to clear
  CHECK(p.io.stats().eois == 0);
}

TEST_CASE("a level interrupt to a software-disabled LAPIC does not wedge the pin", "[ioapic][lapic]") {
  Platform p;
  p.cpu[1]->mmio_write(reg::kSvr, 4, 0xFF);  // CPU 1 software-disabled
  p.program(12, (uint64_t{1} << 56) | rte::kLevel | 0x4C);
  p.io.set_irq(12, true);
  CHECK_FALSE(p.cpu[1]->irr(0x4C));
  CHECK((p.io.entry(12) & rte::kRemoteIrr) == 0);
  p.cpu[1]->mmio_write(reg::kSvr, 4, 0x1FF);
  p.program(12, (uint64_t{1} << 56) | rte::kLevel | 0x4C);
  CHECK(p.cpu[1]->irr(0x4C));
  CHECK(p.io.entry(12) & rte::kRemoteIrr);
}
