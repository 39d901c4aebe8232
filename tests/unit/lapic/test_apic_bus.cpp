// IPIs through the ICR and the APIC bus: destination modes, shorthands,
// lowest priority, and Linux's INIT-SIPI-SIPI AP bring-up
// (SDM Vol. 3A §11.6, §11.12.9-10; Vol. 3A §9.4.4.1).
#include <catch.hpp>

#include <memory>

#include "lapic_fixture.hpp"

using namespace lapic_test;

namespace {

struct KickLog final : Kicker {
  std::vector<uint32_t> cpus;
  void kick(uint32_t cpu) override { cpus.push_back(cpu); }
};

struct Vm {
  static constexpr uint32_t kCpus = 4;
  FakeClock clock;
  ApicBus bus;
  RecordingEoi eoi;
  KickLog kicks;
  std::unique_ptr<Lapic> cpu[kCpus];
  explicit Vm(uint32_t n = kCpus) {
    for (uint32_t i = 0; i < n; ++i) {
      cpu[i] = std::make_unique<Lapic>(test_config(i, i == 0), clock, bus, &bus);
      REQUIRE(bus.attach(*cpu[i]));
    }
    bus.set_eoi_listener(&eoi);
    bus.set_kicker(&kicks);
  }
  void sw_enable_all() {
    for (auto& c : cpu)
      if (c) c->mmio_write(reg::kSvr, 4, 0x1FF);
  }
  void icr(uint32_t from, uint32_t dest, uint32_t low) {
    cpu[from]->mmio_write(reg::kIcrHigh, 4, dest << 24);
    cpu[from]->mmio_write(reg::kIcrLow, 4, low);
  }
};

}  // namespace

TEST_CASE("attach refuses duplicates and out-of-range slots", "[lapic][bus]") {
  Vm vm(1);
  CHECK_FALSE(vm.bus.attach(*vm.cpu[0]));
  FakeClock clock;
  Config c = test_config();
  c.cpu_index = ApicBus::kMaxCpus;
  Lapic far(c, clock, vm.bus, nullptr);
  CHECK_FALSE(vm.bus.attach(far));
}

TEST_CASE("INIT-SIPI-SIPI all delivered before the AP's CPU looks: the SIPI starts it", "[lapic][bus][init][linux]") {
  // The AP's vCPU shares its CPU with another guest whose slice outlasts
  // Linux's INIT, 10 ms, SIPI, 200 us, SIPI: all three arrive before the
  // AP's CPU takes the INIT (vm/virtual_platform.cpp platform_take_start).
  Vm vm(2);
  vm.sw_enable_all();
  Lapic& ap = *vm.cpu[1];
  uint8_t v = 0;
  REQUIRE(ap.take_sipi(v) == false);
  vm.icr(0, 1, icr::kLevel | icr::kAssert | (5u << 8));
  vm.icr(0, 1, icr::kLevel | (5u << 8));
  vm.icr(0, 1, (6u << 8) | 0x9A);
  vm.icr(0, 1, (6u << 8) | 0x9A);
  REQUIRE(ap.take_init());
  REQUIRE(ap.take_sipi(v));
  CHECK(v == 0x9A);
  CHECK_FALSE(ap.waiting_for_sipi());
  CHECK_FALSE(ap.take_sipi(v));
  // A running AP: a SIPI without an INIT before it is ignored; one that
  // came before a later INIT is void, the one after it starts the AP.
  vm.icr(0, 1, (6u << 8) | 0x10);
  CHECK_FALSE(ap.take_sipi(v));
  vm.icr(0, 1, icr::kLevel | icr::kAssert | (5u << 8));
  vm.icr(0, 1, (6u << 8) | 0x20);
  REQUIRE(ap.take_init());
  REQUIRE(ap.take_sipi(v));
  CHECK(v == 0x20);
}

TEST_CASE("Linux INIT-SIPI-SIPI through the xAPIC ICR", "[lapic][bus][init][linux]") {
  Vm vm(2);
  vm.sw_enable_all();
  Lapic& ap = *vm.cpu[1];
  CHECK(ap.waiting_for_sipi());
  // wakeup_secondary_cpu_via_init(): ESR clear, INIT assert (level), INIT
  // de-assert, then two STARTUPs with the trampoline page 0x9A.
  vm.cpu[0]->mmio_write(reg::kEsr, 4, 0);
  vm.icr(0, 1, icr::kLevel | icr::kAssert | (5u << 8));
  CHECK((vm.cpu[0]->mmio_read(reg::kIcrLow, 4) & icr::kDeliveryStatus) == 0);  // idle at once
  vm.icr(0, 1, icr::kLevel | (5u << 8));
  REQUIRE(ap.take_init());
  CHECK_FALSE(ap.take_init());  // the de-assert was no second INIT
  CHECK(ap.waiting_for_sipi());
  vm.icr(0, 1, (6u << 8) | 0x9A);
  vm.icr(0, 1, (6u << 8) | 0x9A);  // the second SIPI is harmless
  uint8_t v = 0;
  REQUIRE(ap.take_sipi(v));
  CHECK(v == 0x9A);
  CHECK_FALSE(ap.take_sipi(v));
  vm.cpu[0]->mmio_write(reg::kEsr, 4, 0);
  CHECK(vm.cpu[0]->mmio_read(reg::kEsr, 4) == 0);
  CHECK(vm.kicks.cpus.size() == 3);  // INIT, SIPI, SIPI; the de-assert was refused: no kick
  CHECK_FALSE(vm.cpu[0]->take_init());  // nothing went to the sender
}

TEST_CASE("INIT-SIPI-SIPI through the x2APIC ICR", "[lapic][bus][init][x2apic]") {
  Vm vm(2);
  for (auto& c : vm.cpu) {
    if (!c) continue;
    REQUIRE(c->write_msr(msr::kApicBase, c->apic_base() | base::kExtd) == MsrStatus::Ok);
    REQUIRE(c->write_msr(0x80F, 0x1FF) == MsrStatus::Ok);
  }
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{1} << 32) | icr::kLevel | icr::kAssert | (5u << 8)) ==
          MsrStatus::Ok);
  REQUIRE(vm.cpu[1]->take_init());
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{1} << 32) | (6u << 8) | 0x10) == MsrStatus::Ok);
  uint8_t v = 0;
  REQUIRE(vm.cpu[1]->take_sipi(v));
  CHECK(v == 0x10);
  // INIT reset the AP's registers (still x2APIC): a fixed IPI is refused
  // until the AP software-enables its APIC again.
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{1} << 32) | 0xFB) == MsrStatus::Ok);
  CHECK_FALSE(vm.cpu[1]->irr(0xFB));
  REQUIRE(vm.cpu[1]->write_msr(0x80F, 0x1FF) == MsrStatus::Ok);
  // A fixed IPI to x2APIC ID 1, physical.
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{1} << 32) | 0xFB) == MsrStatus::Ok);
  CHECK(vm.cpu[1]->irr(0xFB));
  CHECK_FALSE(vm.cpu[0]->irr(0xFB));
}

TEST_CASE("shorthands: self, all including self, all excluding self", "[lapic][bus][ipi]") {
  Vm vm;
  vm.sw_enable_all();
  vm.icr(2, 0, (1u << 18) | 0x40);  // self
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x40) == (i == 2));
  vm.icr(2, 0, (2u << 18) | 0x41);  // all including self
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x41));
  vm.icr(2, 0, (3u << 18) | 0x42);  // all excluding self
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x42) == (i != 2));
  // NMI to all others (Linux's NMI backtrace / stop).
  vm.icr(0, 0, (3u << 18) | (4u << 8));
  CHECK_FALSE(vm.cpu[0]->nmi_waiting());
  for (uint32_t i = 1; i < 4; ++i) CHECK(vm.cpu[i]->nmi_waiting());
}

TEST_CASE("physical destinations and the xAPIC broadcast", "[lapic][bus][ipi]") {
  Vm vm;
  vm.sw_enable_all();
  vm.icr(0, 3, 0x50);
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x50) == (i == 3));
  vm.icr(0, 0xFF, 0x51);
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x51));
  vm.icr(0, 9, 0x52);  // nobody
  CHECK(vm.bus.undeliverable() == 1);
  // A software-changed xAPIC ID is what physical mode matches.
  vm.cpu[3]->mmio_write(reg::kId, 4, 0x0A000000);
  vm.icr(0, 0x0A, 0x53);
  CHECK(vm.cpu[3]->irr(0x53));
}

TEST_CASE("logical destinations: flat and cluster model (SDM 11.6.2.2)", "[lapic][bus][ipi]") {
  Vm vm;
  vm.sw_enable_all();
  // Flat: one bit per CPU, as Linux's default_init_apic_ldr() sets it.
  for (uint32_t i = 0; i < 4; ++i) {
    vm.cpu[i]->mmio_write(reg::kDfr, 4, 0xFFFFFFFF);
    vm.cpu[i]->mmio_write(reg::kLdr, 4, (1u << i) << 24);
  }
  vm.icr(0, 0x0A, icr::kDestLogical | 0x60);  // CPUs 1 and 3
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x60) == (i == 1 || i == 3));
  // Cluster: cluster in 7:4, members in 3:0.
  for (uint32_t i = 0; i < 4; ++i) {
    vm.cpu[i]->mmio_write(reg::kDfr, 4, 0x0FFFFFFF);
    vm.cpu[i]->mmio_write(reg::kLdr, 4, (((i / 2) << 4) | (1u << (i % 2))) << 24);
  }
  vm.icr(0, 0x13, icr::kDestLogical | 0x61);  // cluster 1, both members: CPUs 2, 3
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x61) == (i >= 2));
  vm.icr(0, 0xFF, icr::kDestLogical | 0x62);  // broadcast
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x62));
}

TEST_CASE("x2APIC logical cluster destinations (SDM 11.12.10.2)", "[lapic][bus][x2apic]") {
  Vm vm;
  for (auto& c : vm.cpu) {
    REQUIRE(c->write_msr(msr::kApicBase, c->apic_base() | base::kExtd) == MsrStatus::Ok);
    REQUIRE(c->write_msr(0x80F, 0x1FF) == MsrStatus::Ok);
  }
  // IDs 0-3 are all cluster 0, bits 0-3.
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{0x0006} << 32) | icr::kDestLogical | 0x70) == MsrStatus::Ok);
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x70) == (i == 1 || i == 2));
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{0x10006} << 32) | icr::kDestLogical | 0x71) == MsrStatus::Ok);
  for (uint32_t i = 0; i < 4; ++i) CHECK_FALSE(vm.cpu[i]->irr(0x71));  // cluster 1 is empty
  REQUIRE(vm.cpu[0]->write_msr(0x830, (uint64_t{0xFFFFFFFF} << 32) | 0x72) == MsrStatus::Ok);
  for (uint32_t i = 0; i < 4; ++i) CHECK(vm.cpu[i]->irr(0x72));
}

TEST_CASE("lowest priority picks the lowest arbitration priority, ties rotate", "[lapic][bus][ipi]") {
  Vm vm;
  vm.sw_enable_all();
  for (uint32_t i = 0; i < 4; ++i) vm.cpu[i]->mmio_write(reg::kLdr, 4, (1u << i) << 24);
  vm.cpu[0]->mmio_write(reg::kTpr, 4, 0x80);
  vm.cpu[1]->mmio_write(reg::kTpr, 4, 0x20);
  vm.cpu[2]->mmio_write(reg::kTpr, 4, 0x40);
  vm.icr(3, 0x07, icr::kDestLogical | (1u << 8) | 0x90);  // among CPUs 0-2
  CHECK(vm.cpu[1]->irr(0x90));
  CHECK_FALSE(vm.cpu[0]->irr(0x90));
  CHECK_FALSE(vm.cpu[2]->irr(0x90));
  for (uint32_t i = 0; i < 3; ++i) vm.cpu[i]->mmio_write(reg::kTpr, 4, 0);
  int hits[4] = {};
  for (uint8_t v = 0xA0; v < 0xA6; ++v) {
    vm.icr(3, 0x07, icr::kDestLogical | (1u << 8) | v);
    for (uint32_t i = 0; i < 4; ++i) hits[i] += vm.cpu[i]->irr(v);
  }
  CHECK(hits[0] == 2);
  CHECK(hits[1] == 2);
  CHECK(hits[2] == 2);
  CHECK(hits[3] == 0);
}

TEST_CASE("IPI delivery modes: fixed level IPIs set no TMR, reserved modes are dropped", "[lapic][bus][ipi]") {
  Vm vm(2);
  vm.sw_enable_all();
  vm.icr(0, 1, icr::kLevel | icr::kAssert | 0x55);
  CHECK(vm.cpu[1]->irr(0x55));
  CHECK_FALSE(vm.cpu[1]->tmr(0x55));
  const size_t before = vm.kicks.cpus.size();
  vm.icr(0, 1, (7u << 8) | 0x56);  // 111: reserved in the ICR
  vm.icr(0, 1, (3u << 8) | 0x57);  // 011: reserved
  vm.icr(0, 1, (2u << 8));         // SMI: sent, refused by the LAPIC: nobody kicked
  CHECK(vm.kicks.cpus.size() == before);
  CHECK(vm.cpu[1]->stats().dropped == 1);
  CHECK(vm.cpu[0]->stats().dropped == 2);
}

TEST_CASE("EOI of a level vector reaches the bus's listener", "[lapic][bus][eoi]") {
  Vm vm(1);
  vm.sw_enable_all();
  InterruptMessage m;
  m.vector = 0x39;
  m.trigger = TriggerMode::Level;
  vm.bus.route(m);  // as the IOAPIC would, physical destination 0
  Interruptibility st;
  st.rflags_if = true;
  REQUIRE(vm.cpu[0]->acknowledge(vm.cpu[0]->highest_pending_injectable(st).vector));
  vm.cpu[0]->mmio_write(reg::kEoi, 4, 0);
  REQUIRE(vm.eoi.vectors.size() == 1);
  CHECK(vm.eoi.vectors[0] == 0x39);
}
