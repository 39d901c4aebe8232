// IA32_APIC_BASE state machine and the x2APIC MSR interface
// (SDM Vol. 3A §11.4.4, §11.12).
#include <catch.hpp>

#include "lapic_fixture.hpp"

using namespace lapic_test;

TEST_CASE("IA32_APIC_BASE transitions (SDM 11.12.5 Figure 11-27)", "[lapic][apicbase]") {
  Fixture f;
  const uint64_t xapic = kDefaultBase | base::kBsp | base::kEnable;
  const uint64_t x2 = xapic | base::kExtd;
  const uint64_t off = kDefaultBase | base::kBsp;
  CHECK(f.rdmsr(msr::kApicBase) == xapic);
  // invalid state EN=0, EXTD=1
  CHECK(f.apic.write_msr(msr::kApicBase, off | base::kExtd) == MsrStatus::Gp);
  // reserved bits 7:0, 9, above MAXPHYADDR
  CHECK(f.apic.write_msr(msr::kApicBase, xapic | 1) == MsrStatus::Gp);
  CHECK(f.apic.write_msr(msr::kApicBase, xapic | (1u << 9)) == MsrStatus::Gp);
  CHECK(f.apic.write_msr(msr::kApicBase, xapic | (uint64_t{1} << 39)) == MsrStatus::Gp);
  CHECK(f.apic.mode() == Mode::XApic);
  // xAPIC -> x2APIC
  f.wrmsr(msr::kApicBase, x2);
  CHECK(f.apic.mode() == Mode::X2Apic);
  // x2APIC -> xAPIC is illegal
  CHECK(f.apic.write_msr(msr::kApicBase, xapic) == MsrStatus::Gp);
  CHECK(f.apic.mode() == Mode::X2Apic);
  // x2APIC -> disabled -> xAPIC
  f.wrmsr(msr::kApicBase, off);
  CHECK(f.apic.mode() == Mode::Disabled);
  // disabled -> x2APIC is illegal
  CHECK(f.apic.write_msr(msr::kApicBase, x2) == MsrStatus::Gp);
  f.wrmsr(msr::kApicBase, xapic);
  CHECK(f.apic.mode() == Mode::XApic);
  CHECK(f.rd(reg::kId) == 0);
  CHECK(f.rd(reg::kSvr) == 0xFF);  // state was reset by the disable
  CHECK(f.apic.stats().msr_gp == 6);
}

TEST_CASE("disable resets the registers, keeps the ID; relocation moves the page", "[lapic][apicbase]") {
  FakeClock clock;
  RecordingRouter router;
  Lapic apic(test_config(7), clock, router, nullptr);
  apic.mmio_write(reg::kSvr, 4, 0x1FF);
  apic.mmio_write(reg::kTpr, 4, 0x30);
  InterruptMessage m;
  m.vector = 0x50;
  apic.accept(m);
  REQUIRE(apic.write_msr(msr::kApicBase, kDefaultBase | base::kBsp) == MsrStatus::Ok);
  CHECK(apic.mmio_read(reg::kTpr, 4) == 0xFFFFFFFF);  // page not decoded
  CHECK(apic.next_deadline() == kNever);
  REQUIRE(apic.write_msr(msr::kApicBase, 0xFED00000 | base::kBsp | base::kEnable) == MsrStatus::Ok);
  CHECK(apic.mmio_base() == 0xFED00000);
  CHECK(apic.mmio_read(reg::kId, 4) == 7u << 24);
  CHECK(apic.mmio_read(reg::kTpr, 4) == 0);
  CHECK_FALSE(apic.irr(0x50));
  // BSP flag is read/write (SDM Vol. 4 IA32_APIC_BASE)
  REQUIRE(apic.write_msr(msr::kApicBase, kDefaultBase | base::kEnable) == MsrStatus::Ok);
  CHECK((apic.apic_base() & base::kBsp) == 0);
}

TEST_CASE("EXTD is reserved when CPUID does not offer x2APIC", "[lapic][apicbase]") {
  FakeClock clock;
  RecordingRouter router;
  Config c = test_config();
  c.x2apic = false;
  Lapic apic(c, clock, router, nullptr);
  CHECK(apic.write_msr(msr::kApicBase, apic.apic_base() | base::kExtd) == MsrStatus::Gp);
  uint64_t v;
  CHECK(apic.read_msr(0x802, v) == MsrStatus::Gp);  // x2APIC MSRs #GP in xAPIC mode
  CHECK(apic.write_msr(0x808, 0) == MsrStatus::Gp);
  CHECK(apic.read_msr(0x10, v) == MsrStatus::NotMine);
  CHECK(apic.write_msr(0x900, 0) == MsrStatus::NotMine);
}

TEST_CASE("Linux x2apic enable: ID and LDR from the x2APIC ID; MMIO gone (SDM 11.12.10.2)", "[lapic][x2apic]") {
  FakeClock clock;
  RecordingRouter router;
  Lapic apic(test_config(0x35), clock, router, nullptr);
  // Linux __x2apic_enable(): rdmsr APIC_BASE; wrmsr with X2APIC_ENABLE.
  uint64_t b = 0;
  REQUIRE(apic.read_msr(msr::kApicBase, b) == MsrStatus::Ok);
  REQUIRE(apic.write_msr(msr::kApicBase, b | base::kExtd) == MsrStatus::Ok);
  uint64_t v = 0;
  REQUIRE(apic.read_msr(0x802, v) == MsrStatus::Ok);
  CHECK(v == 0x35);
  REQUIRE(apic.read_msr(0x80D, v) == MsrStatus::Ok);
  CHECK(v == ((3u << 16) | (1u << 5)));  // cluster 3, bit 5
  REQUIRE(apic.read_msr(0x803, v) == MsrStatus::Ok);
  CHECK(v == 0x00060014);
  CHECK(apic.mmio_read(reg::kId, 4) == 0xFFFFFFFF);
  apic.mmio_write(reg::kTpr, 4, 0x40);
  REQUIRE(apic.read_msr(0x808, v) == MsrStatus::Ok);
  CHECK(v == 0);
  // Linux's x2apic setup: SVR, TPR, LVTs through MSRs.
  REQUIRE(apic.write_msr(0x80F, 0x1FF) == MsrStatus::Ok);
  REQUIRE(apic.write_msr(0x808, 0x10) == MsrStatus::Ok);
  REQUIRE(apic.read_msr(0x80A, v) == MsrStatus::Ok);
  CHECK(v == 0x10);
  REQUIRE(apic.write_msr(0x835, 0x700) == MsrStatus::Ok);
  REQUIRE(apic.write_msr(0x836, 0x400) == MsrStatus::Ok);
  REQUIRE(apic.write_msr(0x837, 0xFE) == MsrStatus::Ok);
  REQUIRE(apic.read_msr(0x835, v) == MsrStatus::Ok);
  CHECK(v == 0x700);
}

TEST_CASE("x2APIC MSR access rules and reserved-bit #GP (SDM 11.12.1.2-3)", "[lapic][x2apic]") {
  Fixture f;
  f.to_x2apic();
  uint64_t v = 0;
  // Read-only registers #GP on write.
  for (uint32_t m : {0x802u, 0x803u, 0x80Au, 0x80Du, 0x810u, 0x817u, 0x818u, 0x820u, 0x827u, 0x839u})
    CHECK(f.apic.write_msr(m, 0) == MsrStatus::Gp);
  // Write-only registers #GP on read.
  CHECK(f.apic.read_msr(0x80B, v) == MsrStatus::Gp);
  CHECK(f.apic.read_msr(0x83F, v) == MsrStatus::Gp);
  // Registers that do not exist in x2APIC mode: APR, RRD, DFR, ICR high,
  // and the holes.
  for (uint32_t m : {0x800u, 0x801u, 0x804u, 0x807u, 0x809u, 0x80Cu, 0x80Eu, 0x829u, 0x82Eu, 0x831u, 0x83Au,
                     0x83Du, 0x840u, 0x8FFu}) {
    CHECK(f.apic.read_msr(m, v) == MsrStatus::Gp);
    CHECK(f.apic.write_msr(m, 0) == MsrStatus::Gp);
  }
  // Reserved bits.
  CHECK(f.apic.write_msr(0x808, 0x100) == MsrStatus::Gp);                // TPR 31:8
  CHECK(f.apic.write_msr(0x808, uint64_t{1} << 32) == MsrStatus::Gp);    // upper half
  CHECK(f.apic.write_msr(0x80B, 1) == MsrStatus::Gp);                    // EOI non-zero
  CHECK(f.apic.write_msr(0x828, 1) == MsrStatus::Gp);                    // ESR non-zero
  CHECK(f.apic.write_msr(0x80F, 0x1000) == MsrStatus::Gp);               // SVR 12 without support
  CHECK(f.apic.write_msr(0x83E, 0x4) == MsrStatus::Gp);                  // divide bit 2
  CHECK(f.apic.write_msr(0x832, 0x700) == MsrStatus::Gp);                // timer has no delivery mode
  CHECK(f.apic.write_msr(0x837, 0x400) == MsrStatus::Gp);                // error has no delivery mode
  CHECK(f.apic.write_msr(0x835, 1u << 17) == MsrStatus::Gp);             // LINT0 bit 17
  CHECK(f.apic.write_msr(0x83F, 0x100) == MsrStatus::Gp);                // SELF IPI 31:8
  CHECK(f.apic.write_msr(0x830, 1u << 12) == MsrStatus::Gp);             // ICR delivery status gone
  CHECK(f.apic.write_msr(0x830, 1u << 13) == MsrStatus::Gp);
  CHECK(f.apic.write_msr(0x830, 1u << 16) == MsrStatus::Gp);
  CHECK(f.apic.write_msr(0x830, 1u << 20) == MsrStatus::Gp);
  CHECK(f.router.msgs.empty());
  // Read-only status bits written back are ignored (read-modify-write).
  CHECK(f.apic.write_msr(0x835, lvt::kMasked | lvt::kRemoteIrr | lvt::kDeliveryStatus) == MsrStatus::Ok);
  // Writes that are fine.
  CHECK(f.apic.write_msr(0x80B, 0) == MsrStatus::Ok);
  CHECK(f.apic.write_msr(0x828, 0) == MsrStatus::Ok);
  CHECK(f.apic.write_msr(0x838, 0xFFFFFFFF) == MsrStatus::Ok);
  CHECK(f.apic.write_msr(0x83E, 0xB) == MsrStatus::Ok);
}

TEST_CASE("x2APIC ICR is one 64-bit MSR with a 32-bit destination (SDM 11.12.9)", "[lapic][x2apic][ipi]") {
  Fixture f;
  f.to_x2apic();
  f.wrmsr(0x80F, 0x1FF);
  f.wrmsr(0x830, (uint64_t{0x12345} << 32) | icr::kDestLogical | 0x4000 | 0x0031);
  REQUIRE(f.router.msgs.size() == 1);
  const InterruptMessage& m = f.router.msgs[0];
  CHECK(m.vector == 0x31);
  CHECK(m.delivery == DeliveryMode::Fixed);
  CHECK(m.dest_mode == DestinationMode::Logical);
  CHECK(m.destination == 0x12345);
  CHECK(m.x2apic_format);
  CHECK(m.shorthand == Shorthand::None);
  CHECK(f.rdmsr(0x830) == ((uint64_t{0x12345} << 32) | icr::kDestLogical | 0x4000 | 0x31));
}

TEST_CASE("x2APIC SELF IPI and EOI through MSRs", "[lapic][x2apic]") {
  Fixture f;
  f.to_x2apic();
  f.wrmsr(0x80F, 0x1FF);
  f.wrmsr(0x83F, 0xEC);
  CHECK(f.router.msgs.empty());  // local, not on the bus
  CHECK(f.apic.irr(0xEC));
  f.wrmsr(0x83F, 0x0E);  // illegal vector: refused, logged
  CHECK_FALSE(f.apic.irr(0x0E));
  REQUIRE(f.take() == 0xEC);
  CHECK(f.rdmsr(0x817) == (1u << (0xEC - 0xE0)));  // ISR word 7
  f.wrmsr(0x80B, 0);
  CHECK(f.rdmsr(0x817) == 0);
  f.wrmsr(0x828, 0);
  CHECK(f.rdmsr(0x828) == esr::kReceiveIllegalVector);
}

TEST_CASE("INIT in x2APIC mode keeps the mode and the ID (SDM 11.12.5.1)", "[lapic][x2apic][init]") {
  FakeClock clock;
  RecordingRouter router;
  Lapic apic(test_config(0x21, false), clock, router, nullptr);
  REQUIRE(apic.write_msr(msr::kApicBase, apic.apic_base() | base::kExtd) == MsrStatus::Ok);
  REQUIRE(apic.write_msr(0x80F, 0x1FF) == MsrStatus::Ok);
  InterruptMessage init;
  init.delivery = DeliveryMode::Init;
  apic.accept(init);
  REQUIRE(apic.take_init());
  CHECK(apic.mode() == Mode::X2Apic);
  uint64_t v = 0;
  REQUIRE(apic.read_msr(0x802, v) == MsrStatus::Ok);
  CHECK(v == 0x21);
  REQUIRE(apic.read_msr(0x80D, v) == MsrStatus::Ok);
  CHECK(v == ((2u << 16) | 2u));
  REQUIRE(apic.read_msr(0x80F, v) == MsrStatus::Ok);
  CHECK(v == 0xFF);
}
