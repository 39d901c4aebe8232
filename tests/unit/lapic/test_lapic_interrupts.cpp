// IRR/ISR/TMR, priorities, EOI, ESR, LVT local interrupts, INIT/SIPI and
// the injection interface (SDM Vol. 3A §11.5, §11.8).
#include <catch.hpp>

#include "lapic_fixture.hpp"

using namespace lapic_test;

TEST_CASE("PPR follows TPR and the highest in-service vector (SDM 11.8.3.1)", "[lapic][priority]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTpr, 0x35);
  CHECK(f.rd(reg::kPpr) == 0x35);  // ISR empty: PPR = TPR
  f.fixed(0x51);
  REQUIRE(f.take() == 0x51);
  CHECK(f.rd(reg::kPpr) == 0x50);  // ISRV class above TPR class
  f.wr(reg::kTpr, 0x5A);
  CHECK(f.rd(reg::kPpr) == 0x5A);  // TPR[7:4] >= ISRV[7:4]: PPR = TPR
  f.wr(reg::kTpr, 0x0);
  f.wr(reg::kEoi, 0);
  CHECK(f.rd(reg::kPpr) == 0);
}

TEST_CASE("only vectors above the PPR class are offered", "[lapic][priority]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTpr, 0x40);
  f.fixed(0x45);
  Interruptibility st;
  st.rflags_if = true;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);  // same class as TPR
  CHECK_FALSE(f.apic.interrupt_waiting());
  f.fixed(0x50);
  PendingEvent e = f.apic.highest_pending_injectable(st);
  CHECK(e.kind == EventKind::Fixed);
  CHECK(e.vector == 0x50);
  CHECK_FALSE(f.apic.acknowledge(0x45));  // not the offered one: nothing moves
  CHECK(f.apic.irr(0x45));
  REQUIRE(f.apic.acknowledge(0x50));
  CHECK(f.apic.isr(0x50));
  CHECK_FALSE(f.apic.irr(0x50));
  // 0x45 waits behind the in-service 0x50 even with TPR 0.
  f.wr(reg::kTpr, 0);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
  f.wr(reg::kEoi, 0);
  CHECK(f.take() == 0x45);
}

TEST_CASE("nested interrupts: a higher class preempts, EOI clears the highest ISR bit", "[lapic][eoi]") {
  Fixture f;
  f.enable();
  f.fixed(0x30);
  REQUIRE(f.take() == 0x30);
  f.fixed(0x80);
  REQUIRE(f.take() == 0x80);
  CHECK(f.apic.isr(0x30));
  CHECK(f.apic.isr(0x80));
  CHECK(f.apic.highest_isr() == 0x80);
  f.wr(reg::kEoi, 0);
  CHECK_FALSE(f.apic.isr(0x80));
  CHECK(f.apic.isr(0x30));
  f.wr(reg::kEoi, 0);
  CHECK(f.apic.highest_isr() == -1);
  f.wr(reg::kEoi, 0);  // spurious EOI: nothing to clear, nothing broken
  CHECK(f.eoi.vectors.empty());  // edge interrupts broadcast no EOI
}

TEST_CASE("interruptibility gates the events (RFLAGS.IF, STI/MOV SS shadow, NMI blocking)", "[lapic][inject]") {
  Fixture f;
  f.enable();
  f.fixed(0x40);
  Interruptibility st;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);  // IF=0
  CHECK(f.apic.interrupt_waiting());                         // -> interrupt window
  st.rflags_if = true;
  st.blocked_by_sti = true;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
  st.blocked_by_sti = false;
  st.blocked_by_mov_ss = true;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
  st.blocked_by_mov_ss = false;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::Fixed);
  InterruptMessage nmi;
  nmi.delivery = DeliveryMode::Nmi;
  f.apic.accept(nmi);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::Nmi);  // NMI before maskable ones
  st.rflags_if = false;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::Nmi);  // IF does not block NMI
  st.blocked_by_nmi = true;
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
  st.blocked_by_nmi = false;
  f.apic.acknowledge_nmi();
  CHECK_FALSE(f.apic.nmi_waiting());
}

TEST_CASE("level-triggered EOI is broadcast, edge is not; SVR bit 12 suppresses (SDM 11.8.5)", "[lapic][eoi]") {
  Fixture f;
  f.enable();
  f.fixed(0x41, true);
  CHECK(f.apic.tmr(0x41));
  REQUIRE(f.take() == 0x41);
  f.wr(reg::kEoi, 0);
  REQUIRE(f.eoi.vectors.size() == 1);
  CHECK(f.eoi.vectors[0] == 0x41);
  f.fixed(0x41, false);  // accepted edge-triggered: TMR cleared
  CHECK_FALSE(f.apic.tmr(0x41));
  REQUIRE(f.take() == 0x41);
  f.wr(reg::kEoi, 0);
  CHECK(f.eoi.vectors.size() == 1);

  FakeClock clock;
  RecordingRouter router;
  RecordingEoi eoi;
  Config c = test_config();
  c.suppress_eoi_broadcast = true;
  Lapic apic(c, clock, router, &eoi);
  apic.mmio_write(reg::kSvr, 4, svr::kEnable | svr::kSuppressEoiBroadcast | 0xFF);
  InterruptMessage m;
  m.vector = 0x42;
  m.trigger = TriggerMode::Level;
  apic.accept(m);
  Interruptibility st;
  st.rflags_if = true;
  REQUIRE(apic.acknowledge(apic.highest_pending_injectable(st).vector));
  apic.mmio_write(reg::kEoi, 4, 0);
  CHECK(eoi.vectors.empty());
  CHECK_FALSE(apic.isr(0x42));
}

TEST_CASE("ESR: write before read; the error LVT fires (SDM 11.5.3)", "[lapic][esr]") {
  Fixture f;
  f.enable();
  f.wr(reg::kLvtError, 0xFE);
  f.fixed(0x05);  // illegal vector received
  CHECK_FALSE(f.apic.irr(0x05));
  CHECK(f.rd(reg::kEsr) == 0);
  CHECK(f.apic.irr(0xFE));  // error interrupt raised at detection
  f.wr(reg::kIcrHigh, 0);
  f.wr(reg::kIcrLow, 0x0000000A);  // fixed IPI with vector 10: send illegal vector
  CHECK(f.router.msgs.empty());
  f.wr(reg::kEsr, 0);
  CHECK(f.rd(reg::kEsr) == (esr::kReceiveIllegalVector | esr::kSendIllegalVector));
  f.wr(reg::kEsr, 0);
  CHECK(f.rd(reg::kEsr) == 0);
  // An error LVT with an illegal vector only records the error (no loop).
  f.wr(reg::kLvtError, 0x03);
  f.fixed(0x02);
  f.wr(reg::kEsr, 0);
  CHECK(f.rd(reg::kEsr) == esr::kReceiveIllegalVector);
}

TEST_CASE("LINT0 ExtINT and LINT1 NMI: virtual wire mode", "[lapic][lint]") {
  Fixture f;
  Interruptibility st;
  st.rflags_if = true;
  // Masked after reset: the PIC's INTR does not get through.
  f.apic.set_lint(0, true);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
  f.apic.setup_virtual_wire();
  CHECK(f.rd(reg::kLvtLint0) == 0x700);
  CHECK(f.rd(reg::kLvtLint1) == 0x400);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::ExtInt);  // level: asserted now
  // ExtINT bypasses the PPR (the vector comes from the 8259A).
  f.wr(reg::kTpr, 0xFF);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::ExtInt);
  f.apic.set_lint(0, false);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
  f.apic.set_lint(1, true);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::Nmi);
  f.apic.acknowledge_nmi();
  f.apic.set_lint(1, true);  // no new edge
  CHECK_FALSE(f.apic.nmi_waiting());
  f.apic.set_lint(1, false);
  f.apic.set_lint(1, true);
  CHECK(f.apic.nmi_waiting());
}

TEST_CASE("LINT fixed level input: Remote IRR until EOI", "[lapic][lint]") {
  Fixture f;
  f.enable();
  f.wr(reg::kLvtLint0, lvt::kLevel | 0x60);
  f.apic.set_lint(0, true);
  CHECK(f.apic.irr(0x60));
  CHECK(f.apic.tmr(0x60));
  CHECK(f.rd(reg::kLvtLint0) & lvt::kRemoteIrr);
  REQUIRE(f.take() == 0x60);
  f.wr(reg::kEoi, 0);  // still asserted: delivered again
  CHECK(f.apic.irr(0x60));
  REQUIRE(f.take() == 0x60);
  f.apic.set_lint(0, false);
  f.wr(reg::kEoi, 0);
  CHECK_FALSE(f.apic.irr(0x60));
  CHECK_FALSE(f.rd(reg::kLvtLint0) & lvt::kRemoteIrr);
  // Edge fixed input: one interrupt per rising edge.
  f.wr(reg::kLvtLint1, 0x61);
  f.apic.set_lint(1, true);
  f.apic.set_lint(1, true);
  REQUIRE(f.take() == 0x61);
  CHECK_FALSE(f.apic.irr(0x61));
}

TEST_CASE("a hardware-disabled APIC passes INTR and NMI pins through (SDM 11.4.3)", "[lapic][lint]") {
  Fixture f;
  f.wrmsr(msr::kApicBase, kDefaultBase | base::kBsp);  // EN=0
  CHECK(f.apic.mode() == Mode::Disabled);
  Interruptibility st;
  st.rflags_if = true;
  f.apic.set_lint(0, true);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::ExtInt);
  f.apic.set_lint(0, false);
  f.apic.set_lint(1, true);
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::Nmi);
  f.fixed(0x40);  // not on the bus
  f.apic.acknowledge_nmi();
  CHECK(f.apic.highest_pending_injectable(st).kind == EventKind::None);
}

TEST_CASE("thermal/perf/CMCI LVTs deliver by their mode", "[lapic][lvt]") {
  Fixture f;
  f.enable();
  f.wr(reg::kLvtPerf, 0x400);  // NMI (Linux's perf NMI watchdog)
  f.apic.raise_lvt(Lvt::Perf);
  CHECK(f.apic.nmi_waiting());
  f.wr(reg::kLvtThermal, 0xFA);
  f.apic.raise_lvt(Lvt::Thermal);
  CHECK(f.apic.irr(0xFA));
  f.wr(reg::kLvtCmci, lvt::kMasked | 0xF9);
  f.apic.raise_lvt(Lvt::Cmci);
  CHECK_FALSE(f.apic.irr(0xF9));
}

TEST_CASE("INIT resets the APIC but the ID and mode; SIPI only while waiting", "[lapic][init]") {
  FakeClock clock;
  RecordingRouter router;
  Lapic ap(test_config(1, false), clock, router, nullptr);
  ap.mmio_write(reg::kSvr, 4, 0x1FF);
  ap.mmio_write(reg::kTpr, 4, 0x20);
  ap.mmio_write(reg::kLdr, 4, 0x02000000);
  InterruptMessage sipi;
  sipi.delivery = DeliveryMode::Startup;
  sipi.vector = 0x9A;
  uint8_t v = 0;
  // After RESET an AP waits for SIPI.
  ap.accept(sipi);
  REQUIRE(ap.take_sipi(v));
  CHECK(v == 0x9A);
  CHECK_FALSE(ap.waiting_for_sipi());
  ap.accept(sipi);  // running: ignored
  CHECK_FALSE(ap.take_sipi(v));
  InterruptMessage init;
  init.delivery = DeliveryMode::Init;
  init.trigger = TriggerMode::Level;
  init.assert_level = false;  // de-assert: ignored
  ap.accept(init);
  CHECK_FALSE(ap.take_init());
  init.assert_level = true;
  ap.accept(init);
  REQUIRE(ap.take_init());
  CHECK_FALSE(ap.take_init());
  CHECK(ap.waiting_for_sipi());
  CHECK(ap.mmio_read(reg::kId, 4) == 1u << 24);
  CHECK(ap.mmio_read(reg::kTpr, 4) == 0);
  CHECK(ap.mmio_read(reg::kLdr, 4) == 0);
  CHECK(ap.mmio_read(reg::kSvr, 4) == 0xFF);
  CHECK(ap.mode() == Mode::XApic);
}
