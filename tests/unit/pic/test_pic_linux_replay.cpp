// Replays of what Linux does with the 8259A pair (arch/x86/kernel/i8259.c):
// probe_8259A() + init_8259A(0), the edge handler's mask_and_ack_8259A()
// with its spurious-IRQ check i8259A_irq_real(), unmask, and the
// IO-APIC-mode mask_all; plus ACPI's ELCR update (acpi_pic_sci_set_trigger).
#include <catch.hpp>

#include "tests/unit/pic/pic_fixture.hpp"

using mamori::test::PicFixture;

namespace {

// The kernel's state (cached_irq_mask) and port writes, as in i8259.c.
struct LinuxI8259 {
  PicFixture& f;
  unsigned cached_irq_mask = 0xFFFF;
  uint8_t cached_master() const { return static_cast<uint8_t>(cached_irq_mask); }
  uint8_t cached_slave() const { return static_cast<uint8_t>(cached_irq_mask >> 8); }

  // probe_8259A(): mask all but the cascade, read the mask back.
  bool probe() {
    const uint8_t probe_val = static_cast<uint8_t>(~(1u << 2));
    f.out(0xA1, 0xFF);
    f.out(0x21, probe_val);
    const uint8_t new_val = f.in(0x21);
    if (new_val != probe_val) return false;
    f.out(0x21, cached_master());
    return true;
  }
  void init(bool auto_eoi) {
    f.out(0x21, 0xFF);
    f.out(0xA1, 0xFF);
    f.out(0x20, 0x11);
    f.out(0x21, 0x30);       // ISA_IRQ_VECTOR(0)
    f.out(0x21, 1u << 2);    // slave on IR2
    f.out(0x21, auto_eoi ? 0x03 : 0x01);
    f.out(0xA0, 0x11);
    f.out(0xA1, 0x38);       // ISA_IRQ_VECTOR(8)
    f.out(0xA1, 2);          // slave ID 2
    f.out(0xA1, 0x01);
    f.out(0x21, cached_master());
    f.out(0xA1, cached_slave());
  }
  void unmask(unsigned irq) {
    cached_irq_mask &= ~(1u << irq);
    if (irq & 8)
      f.out(0xA1, cached_slave());
    else
      f.out(0x21, cached_master());
  }
  // i8259A_irq_real(): is `irq` in service (else the interrupt was spurious)?
  bool irq_real(unsigned irq) {
    const unsigned mask = 1u << irq;
    if (irq < 8) {
      f.out(0x20, 0x0B);
      const bool v = f.in(0x20) & mask;
      f.out(0x20, 0x0A);
      return v;
    }
    f.out(0xA0, 0x0B);
    const bool v = (f.in(0xA0) << 8) & mask;
    f.out(0xA0, 0x0A);
    return v;
  }
  // mask_and_ack_8259A(); returns false for a spurious interrupt.
  bool mask_and_ack(unsigned irq) {
    const unsigned mask = 1u << irq;
    if (cached_irq_mask & mask) goto spurious_8259A;
    cached_irq_mask |= mask;
  handle_real_irq:
    if (irq & 8) {
      f.in(0xA1);
      f.out(0xA1, cached_slave());
      f.out(0xA0, static_cast<uint8_t>(0x60 + (irq & 7)));
      f.out(0x20, 0x60 + 2);
    } else {
      f.in(0x21);
      f.out(0x21, cached_master());
      f.out(0x20, static_cast<uint8_t>(0x60 + irq));
    }
    return true;
  spurious_8259A:
    if (irq_real(irq)) goto handle_real_irq;
    // Linux: "spurious 8259A interrupt: IRQ%d."; for IRQ15 it EOIs the
    // master's IR2 so the cascade works again.
    if (irq == 15) f.out(0x20, 0x60 + 2);
    return false;
  }
};

}  // namespace

TEST_CASE("pic linux: probe_8259A + init_8259A + a timer tick round trip", "[pic][linux]") {
  PicFixture f;
  LinuxI8259 linux_{f};
  REQUIRE(linux_.probe());
  linux_.init(false);
  CHECK(f.in(0x21) == 0xFF);
  CHECK(f.in(0xA1) == 0xFF);
  linux_.unmask(2);  // the cascade
  linux_.unmask(0);  // the PIT
  CHECK(f.in(0x21) == 0xFA);

  for (int tick = 0; tick < 3; ++tick) {
    f.pic.set_irq(0, false);
    f.pic.set_irq(0, true);
    REQUIRE(f.pic.pending());
    CHECK(f.pic.acknowledge() == 0x30);
    // handle_level/edge_irq → mask_ack → the handler → unmask.
    CHECK(linux_.mask_and_ack(0));
    CHECK(f.isr() == 0);
    linux_.unmask(0);
  }
  CHECK_FALSE(f.pic.pending());
}

TEST_CASE("pic linux: an RTC (IRQ8) interrupt through the cascade", "[pic][linux]") {
  PicFixture f;
  LinuxI8259 linux_{f};
  REQUIRE(linux_.probe());
  linux_.init(false);
  linux_.unmask(2);
  linux_.unmask(8);
  f.pic.set_irq(8, true);
  REQUIRE(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x38);
  CHECK(linux_.mask_and_ack(8));
  CHECK(f.isr() == 0);
  CHECK(f.isr(true) == 0);
  f.pic.set_irq(8, false);
  linux_.unmask(8);
  CHECK_FALSE(f.pic.pending());
}

TEST_CASE("pic linux: spurious IRQ7 and IRQ15 are recognised", "[pic][linux]") {
  PicFixture f;
  LinuxI8259 linux_{f};
  REQUIRE(linux_.probe());
  linux_.init(false);
  linux_.unmask(2);
  linux_.unmask(5);
  linux_.unmask(10);
  f.out(0x4D0, 0x20);
  f.out(0x4D1, 0x04);
  f.pic.set_irq(5, true);
  f.pic.set_irq(5, false);
  // IRQ7 is masked in cached_irq_mask, so Linux asks the ISR: not real.
  CHECK(f.pic.acknowledge() == 0x37);
  CHECK_FALSE(linux_.mask_and_ack(7));
  f.pic.set_irq(10, true);
  f.pic.set_irq(10, false);
  CHECK(f.pic.acknowledge() == 0x3F);
  CHECK_FALSE(linux_.mask_and_ack(15));
  CHECK(f.isr() == 0);  // the master's IR2 got its EOI
  f.pic.set_irq(10, true);
  CHECK(f.pic.pending());  // and the cascade works again
  CHECK(f.pic.acknowledge() == 0x3A);
}

TEST_CASE("pic linux: IO-APIC mode masks everything; ACPI sets the SCI level", "[pic][linux]") {
  PicFixture f;
  LinuxI8259 linux_{f};
  REQUIRE(linux_.probe());
  linux_.init(false);
  // mask_8259A(): outb(0xff, PIC_MASTER_IMR); outb(0xff, PIC_SLAVE_IMR).
  f.out(0x21, 0xFF);
  f.out(0xA1, 0xFF);
  for (uint8_t irq = 0; irq < 16; ++irq) f.pic.set_irq(irq, true);
  CHECK_FALSE(f.pic.pending());
  // acpi_pic_sci_set_trigger(9, level): read both ELCRs, set bit 9.
  const unsigned old = f.in(0x4D0) | (f.in(0x4D1) << 8);
  const unsigned val = old | (1u << 9);
  f.out(0x4D0, static_cast<uint8_t>(val));
  f.out(0x4D1, static_cast<uint8_t>(val >> 8));
  CHECK(f.in(0x4D1) == 0x02);
}

TEST_CASE("pic linux: a machine without a PIC fails the probe", "[pic][linux]") {
  // The check Linux makes is against floating ports (0xFF): prove the
  // model is not such a machine by showing the read-back differs from 0xFF
  // and follows the value written.
  PicFixture f;
  for (uint8_t v : {uint8_t{0xFB}, uint8_t{0x00}, uint8_t{0x5A}}) {
    f.out(0x21, v);
    CHECK(f.in(0x21) == v);
  }
}
