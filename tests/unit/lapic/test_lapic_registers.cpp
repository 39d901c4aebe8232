// xAPIC register page: reset values, every register's writable bits,
// access sizes, reserved offsets, software disable (SDM Vol. 3A ch. 11).
#include <catch.hpp>

#include "lapic_fixture.hpp"

using namespace lapic_test;

TEST_CASE("power-up values (SDM 11.4.7.1)", "[lapic][registers]") {
  FakeClock clock;
  RecordingRouter router;
  Config c = test_config(3, false);
  Lapic apic(c, clock, router, nullptr);
  CHECK(apic.apic_base() == (kDefaultBase | base::kEnable));  // AP: BSP flag clear
  CHECK(apic.mode() == Mode::XApic);
  CHECK(apic.mmio_read(reg::kId, 4) == 3u << 24);
  // version 0x14, max LVT entry 6 (CMCI present), no directed EOI
  CHECK(apic.mmio_read(reg::kVersion, 4) == 0x00060014);
  CHECK(apic.mmio_read(reg::kTpr, 4) == 0);
  CHECK(apic.mmio_read(reg::kPpr, 4) == 0);
  CHECK(apic.mmio_read(reg::kLdr, 4) == 0);
  CHECK(apic.mmio_read(reg::kDfr, 4) == 0xFFFFFFFF);
  CHECK(apic.mmio_read(reg::kSvr, 4) == 0xFF);
  for (uint32_t off : {reg::kLvtCmci, reg::kLvtTimer, reg::kLvtThermal, reg::kLvtPerf, reg::kLvtLint0,
                       reg::kLvtLint1, reg::kLvtError})
    CHECK(apic.mmio_read(off, 4) == lvt::kMasked);
  for (uint32_t w = 0; w < 8; ++w) {
    CHECK(apic.mmio_read(reg::kIsr + 0x10 * w, 4) == 0);
    CHECK(apic.mmio_read(reg::kTmr + 0x10 * w, 4) == 0);
    CHECK(apic.mmio_read(reg::kIrr + 0x10 * w, 4) == 0);
  }
  CHECK(apic.mmio_read(reg::kIcrLow, 4) == 0);
  CHECK(apic.mmio_read(reg::kIcrHigh, 4) == 0);
  CHECK(apic.mmio_read(reg::kTimerInitial, 4) == 0);
  CHECK(apic.mmio_read(reg::kTimerCurrent, 4) == 0);
  CHECK(apic.mmio_read(reg::kTimerDivide, 4) == 0);
  CHECK(apic.mmio_read(reg::kEsr, 4) == 0);
  CHECK(apic.waiting_for_sipi());
  CHECK_FALSE(apic.sw_enabled());

  Config b = test_config(0, true);
  Lapic bsp(b, clock, router, nullptr);
  CHECK(bsp.apic_base() == (kDefaultBase | base::kEnable | base::kBsp));
  CHECK_FALSE(bsp.waiting_for_sipi());
}

TEST_CASE("version advertises directed EOI only when configured", "[lapic][registers]") {
  FakeClock clock;
  RecordingRouter router;
  Config c = test_config();
  c.suppress_eoi_broadcast = true;
  Lapic apic(c, clock, router, nullptr);
  CHECK(apic.mmio_read(reg::kVersion, 4) == (0x00060014 | version::kDirectedEoi));
  apic.mmio_write(reg::kSvr, 4, 0xFFFFFFFF);
  CHECK(apic.mmio_read(reg::kSvr, 4) == 0x13FF);
  Fixture f;
  f.wr(reg::kSvr, 0xFFFFFFFF);
  CHECK(f.rd(reg::kSvr) == 0x3FF);  // bit 12 reserved without the feature
}

TEST_CASE("writable bits of every xAPIC register", "[lapic][registers]") {
  Fixture f;
  f.enable();
  f.wr(reg::kId, 0xFFFFFFFF);
  CHECK(f.rd(reg::kId) == 0xFF000000);
  f.wr(reg::kId, 0x05000000);
  f.wr(reg::kVersion, 0);
  CHECK(f.rd(reg::kVersion) == 0x00060014);  // read-only
  f.wr(reg::kTpr, 0xFFFFFFFF);
  CHECK(f.rd(reg::kTpr) == 0xFF);
  CHECK(f.rd(reg::kPpr) == 0xFF);
  f.wr(reg::kTpr, 0);
  f.wr(reg::kPpr, 0x50);
  CHECK(f.rd(reg::kPpr) == 0);  // read-only
  f.wr(reg::kLdr, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLdr) == 0xFF000000);
  f.wr(reg::kDfr, 0);
  CHECK(f.rd(reg::kDfr) == 0x0FFFFFFF);  // cluster model, 27:0 read as ones
  f.wr(reg::kDfr, 0xFFFFFFFF);
  CHECK(f.rd(reg::kDfr) == 0xFFFFFFFF);
  CHECK(f.rd(reg::kEoi) == 0);
  CHECK(f.rd(reg::kRrd) == 0);
  f.wr(reg::kIcrHigh, 0xFFFFFFFF);
  CHECK(f.rd(reg::kIcrHigh) == 0xFF000000);
  f.wr(reg::kLvtTimer, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtTimer) == (0xFF | lvt::kMasked | lvt::kTimerMode));
  f.wr(reg::kLvtThermal, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtThermal) == 0x107FF);
  f.wr(reg::kLvtPerf, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtPerf) == 0x107FF);
  f.wr(reg::kLvtCmci, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtCmci) == 0x107FF);
  f.wr(reg::kLvtLint0, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtLint0) == 0x1A7FF);  // no delivery status, no Remote IRR
  f.wr(reg::kLvtLint1, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtLint1) == 0x1A7FF);
  f.wr(reg::kLvtError, 0xFFFFFFFF);
  CHECK(f.rd(reg::kLvtError) == 0x100FF);
  f.wr(reg::kTimerDivide, 0xFFFFFFFF);
  CHECK(f.rd(reg::kTimerDivide) == 0xB);
  for (uint32_t w = 0; w < 8; ++w) {  // ISR/TMR/IRR are read-only
    f.wr(reg::kIrr + 0x10 * w, 0xFFFFFFFF);
    f.wr(reg::kIsr + 0x10 * w, 0xFFFFFFFF);
    f.wr(reg::kTmr + 0x10 * w, 0xFFFFFFFF);
    CHECK(f.rd(reg::kIrr + 0x10 * w) == 0);
    CHECK(f.rd(reg::kIsr + 0x10 * w) == 0);
    CHECK(f.rd(reg::kTmr + 0x10 * w) == 0);
  }
  CHECK(f.apic.pending_errors() == 0);
}

TEST_CASE("timer mode bits without TSC-deadline support", "[lapic][registers]") {
  FakeClock clock;
  RecordingRouter router;
  Config c = test_config();
  c.tsc_deadline = false;
  Lapic apic(c, clock, router, nullptr);
  apic.mmio_write(reg::kLvtTimer, 4, lvt::kTimerTscDeadline | 0x40);
  CHECK(apic.mmio_read(reg::kLvtTimer, 4) == (lvt::kMasked | 0x40));  // bit 18 reserved
  uint64_t v = 0;
  CHECK(apic.read_msr(msr::kTscDeadline, v) == MsrStatus::Gp);
  CHECK(apic.write_msr(msr::kTscDeadline, 1) == MsrStatus::Gp);
}

TEST_CASE("access sizes and alignment (SDM 11.4.1)", "[lapic][registers]") {
  Fixture f;
  f.wr(reg::kId, 0x12000000);
  f.wr(reg::kTpr, 0x00000034);
  // Byte and word reads inside the first 4 bytes of a slot return those bytes.
  CHECK(f.apic.mmio_read(reg::kId + 3, 1) == 0x12);
  CHECK(f.apic.mmio_read(reg::kId + 2, 2) == 0x1200);
  CHECK(f.apic.mmio_read(reg::kTpr, 1) == 0x34);
  const uint64_t rejected = f.apic.stats().mmio_rejected;
  // Bytes 4-15 of a slot, crossing accesses and 8-byte reads read 0.
  CHECK(f.apic.mmio_read(reg::kId + 4, 4) == 0);
  CHECK(f.apic.mmio_read(reg::kId + 2, 4) == 0);
  CHECK(f.apic.mmio_read(reg::kId, 8) == 0);
  CHECK(f.apic.mmio_read(reg::kId, 3) == 0);
  CHECK(f.apic.mmio_read(0x1000, 4) == 0);
  CHECK(f.apic.stats().mmio_rejected == rejected + 5);
  // Only aligned 32-bit writes are taken.
  f.apic.mmio_write(reg::kTpr, 1, 0x77);
  f.apic.mmio_write(reg::kTpr, 2, 0x77);
  f.apic.mmio_write(reg::kTpr, 8, 0x77);
  f.apic.mmio_write(reg::kTpr + 4, 4, 0x77);
  f.apic.mmio_write(reg::kTpr + 1, 4, 0x77);
  CHECK(f.rd(reg::kTpr) == 0x34);
  CHECK(f.apic.stats().mmio_rejected == rejected + 10);
}

TEST_CASE("reserved offsets log an illegal register address (SDM 11.5.3)", "[lapic][registers][esr]") {
  Fixture f;
  f.enable();
  for (uint32_t off : {0x000u, 0x010u, 0x040u, 0x070u, 0x290u, 0x2E0u, 0x3A0u, 0x3D0u, 0x3F0u, 0x400u, 0xFF0u}) {
    CHECK(f.rd(off) == 0);
    f.wr(off, 0xFFFFFFFF);
  }
  CHECK(f.rd(reg::kEsr) == 0);  // nothing until ESR is written
  f.wr(reg::kEsr, 0);
  CHECK(f.rd(reg::kEsr) == esr::kIllegalRegister);
  f.wr(reg::kEsr, 0);
  CHECK(f.rd(reg::kEsr) == 0);
}

TEST_CASE("software disable masks every LVT and keeps them masked (SDM 11.4.7.2)", "[lapic][registers]") {
  Fixture f;
  f.enable();
  f.wr(reg::kLvtLint0, 0x700);
  f.wr(reg::kLvtTimer, 0x30);
  CHECK(f.rd(reg::kLvtLint0) == 0x700);
  f.wr(reg::kSvr, 0xFF);  // software disable
  CHECK(f.rd(reg::kLvtLint0) == (0x700 | lvt::kMasked));
  CHECK(f.rd(reg::kLvtTimer) == (0x30 | lvt::kMasked));
  f.wr(reg::kLvtError, 0x40);
  CHECK(f.rd(reg::kLvtError) == (0x40 | lvt::kMasked));
  // Fixed interrupts are refused while disabled; NMI still gets in.
  f.fixed(0x40);
  CHECK_FALSE(f.apic.irr(0x40));
  InterruptMessage nmi;
  nmi.delivery = DeliveryMode::Nmi;
  f.apic.accept(nmi);
  CHECK(f.apic.nmi_waiting());
  f.enable();
  f.wr(reg::kLvtError, 0x40);
  CHECK(f.rd(reg::kLvtError) == 0x40);
}

TEST_CASE("the register array is the virtual-APIC page layout (SDM 3C 29.1)", "[lapic][registers]") {
  Fixture f;
  f.enable();
  f.wr(reg::kTpr, 0x20);
  f.fixed(0x61);
  f.fixed(0x31, true);
  const uint32_t* page = f.apic.virtual_apic_page();
  CHECK((reinterpret_cast<uintptr_t>(page) & 0xFFF) == 0);
  CHECK(page[reg::kTpr / 4] == 0x20);
  CHECK(page[(reg::kIrr + 0x30) / 4] == (1u << 1));  // vector 0x61: word 3, bit 1
  CHECK(page[(reg::kIrr + 0x10) / 4] == (1u << 17));  // vector 0x31: word 1, bit 17
  CHECK(page[(reg::kTmr + 0x10) / 4] == (1u << 17));
  CHECK(page[reg::kSvr / 4] == 0x1FF);
  REQUIRE(f.take() == 0x61);
  CHECK(page[(reg::kIsr + 0x30) / 4] == (1u << 1));
  CHECK(page[reg::kPpr / 4] == 0x60);
}
