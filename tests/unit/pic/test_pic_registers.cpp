// Register-level tests of the 8259A pair (datasheet sections cited in
// devices/pic/pic.cpp).
#include <catch.hpp>

#include "tests/unit/pic/pic_fixture.hpp"

using mamori::test::PicFixture;

TEST_CASE("pic: initialization sets vector bases, clears IMR/ISR and the edge latch", "[pic]") {
  PicFixture f;
  f.init(0x30, 0x38);
  CHECK(f.pic.master().vector_base == 0x30);
  CHECK(f.pic.slave().vector_base == 0x38);
  CHECK(f.pic.master().init_state == 0);
  CHECK(f.in(0x21) == 0x00);
  CHECK_FALSE(f.pic.pending());
  // Low vector bits are ignored (x86 mode: T2-T0 = IR number).
  f.out(0x20, 0x11);
  f.out(0x21, 0x47);
  f.out(0x21, 0x04);
  f.out(0x21, 0x01);
  CHECK(f.pic.master().vector_base == 0x40);
}

TEST_CASE("pic: ICW1 without IC4 clears ICW4 functions; single mode skips ICW3", "[pic]") {
  PicFixture f;
  f.init(0x30, 0x38, /*aeoi=*/true);
  CHECK(f.pic.master().auto_eoi);
  f.out(0x20, 0x12);  // ICW1: single, no ICW4
  f.out(0x21, 0x50);  // ICW2, and done
  CHECK(f.pic.master().init_state == 0);
  CHECK_FALSE(f.pic.master().auto_eoi);
  f.out(0x21, 0xAA);  // now OCW1
  CHECK(f.in(0x21) == 0xAA);
}

TEST_CASE("pic: ICW1 clears IMR and ISR and needs a new rising edge", "[pic]") {
  PicFixture f;
  f.init();
  f.pic.set_irq(1, true);
  CHECK(f.pic.acknowledge() == 0x31);
  CHECK(f.isr() == 0x02);
  f.out(0x21, 0x55);
  f.init();
  CHECK(f.isr() == 0);
  CHECK(f.irr() == 0);
  // The line is still high: no request until it goes low and high again.
  f.pic.set_irq(1, true);
  CHECK_FALSE(f.pic.pending());
  f.pic.set_irq(1, false);
  f.pic.set_irq(1, true);
  CHECK(f.pic.pending());
}

TEST_CASE("pic: edge request, INTA, EOI", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(0);
  CHECK(f.pic.pending());
  CHECK(f.intr.level);
  CHECK(f.irr() == 0x01);
  CHECK(f.pic.acknowledge() == 0x30);
  CHECK_FALSE(f.pic.pending());
  CHECK_FALSE(f.intr.level);
  CHECK(f.irr() == 0x00);
  CHECK(f.isr() == 0x01);
  // A new edge while IRQ0 is in service waits for the EOI.
  f.pulse(0);
  CHECK_FALSE(f.pic.pending());
  f.eoi();
  CHECK(f.isr() == 0);
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x30);
}

TEST_CASE("pic: fixed priority and nesting", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(3);
  f.pulse(1);
  CHECK(f.pic.acknowledge() == 0x31);  // IR1 beats IR3
  CHECK_FALSE(f.pic.pending());        // IR3 is lower than in-service IR1
  f.pulse(0);
  CHECK(f.pic.pending());              // IR0 preempts IR1
  CHECK(f.pic.acknowledge() == 0x30);
  CHECK(f.isr() == 0x03);
  f.eoi();                             // non-specific EOI clears the highest (IR0)
  CHECK(f.isr() == 0x02);
  CHECK_FALSE(f.pic.pending());
  f.eoi();
  CHECK(f.isr() == 0x00);
  CHECK(f.pic.acknowledge() == 0x33);
}

TEST_CASE("pic: IMR masks requests but IRR keeps them", "[pic]") {
  PicFixture f;
  f.init();
  f.out(0x21, 0x10);
  f.pulse(4);
  CHECK(f.irr() == 0x10);
  CHECK_FALSE(f.pic.pending());
  f.out(0x21, 0x00);
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x34);
}

TEST_CASE("pic: specific EOI and rotate on specific EOI", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(5);
  f.pic.acknowledge();
  f.pulse(2 + 1);
  f.pic.acknowledge();
  CHECK(f.isr() == 0x28);
  f.out(0x20, 0x65);  // specific EOI IR5
  CHECK(f.isr() == 0x08);
  f.out(0x20, 0xE3);  // rotate on specific EOI IR3: IR3 lowest, IR4 highest
  CHECK(f.isr() == 0x00);
  CHECK(f.pic.master().priority_add == 4);
  f.pulse(0);
  f.pulse(4);
  CHECK(f.pic.acknowledge() == 0x34);
}

TEST_CASE("pic: rotate on non-specific EOI and set priority", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(1);
  f.pic.acknowledge();
  f.out(0x20, 0xA0);  // rotate on non-specific EOI: IR1 becomes lowest
  CHECK(f.isr() == 0);
  CHECK(f.pic.master().priority_add == 2);
  f.pulse(1);
  f.pulse(7);
  CHECK(f.pic.acknowledge() == 0x37);  // IR7 now beats IR1
  f.eoi();
  f.out(0x20, 0xC6);  // set priority: IR6 lowest → IR7 highest
  CHECK(f.pic.master().priority_add == 7);
  f.out(0x20, 0x40);  // OCW2 no-op
  CHECK(f.pic.acknowledge() == 0x31);
}

TEST_CASE("pic: auto-EOI leaves ISR clear; rotate in AEOI", "[pic]") {
  PicFixture f;
  f.init(0x30, 0x38, /*aeoi=*/true);
  f.pulse(3);
  CHECK(f.pic.acknowledge() == 0x33);
  CHECK(f.isr() == 0);
  f.pulse(3);
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x33);
  f.out(0x20, 0x80);  // rotate in AEOI: set
  CHECK(f.pic.master().rotate_auto_eoi);
  f.pulse(3);
  f.pic.acknowledge();
  CHECK(f.pic.master().priority_add == 4);
  f.out(0x20, 0x00);  // clear
  CHECK_FALSE(f.pic.master().rotate_auto_eoi);
}

TEST_CASE("pic: OCW3 read register select persists; poll command", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(6);
  f.out(0x20, 0x0B);
  CHECK(f.in(0x20) == 0x00);  // ISR
  CHECK(f.in(0x20) == 0x00);  // still ISR
  f.out(0x20, 0x08);          // OCW3 without RR: selection unchanged
  CHECK(f.in(0x20) == 0x00);
  f.out(0x20, 0x0A);
  CHECK(f.in(0x20) == 0x40);  // IRR
  // Poll: the read is the INTA.
  f.out(0x20, 0x0C);
  CHECK(f.in(0x20) == (0x80 | 6));
  CHECK(f.isr() == 0x40);
  CHECK_FALSE(f.pic.pending());
  f.out(0x20, 0x0C);
  CHECK(f.in(0x20) == 0x00);  // nothing pending
  CHECK(f.in(0x20) == 0x00);  // and the poll is over (IRR read)
}

TEST_CASE("pic: special mask mode lets lower levels through", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(2 + 2);
  CHECK(f.pic.acknowledge() == 0x34);  // IR4 in service
  f.pulse(6);
  CHECK_FALSE(f.pic.pending());
  f.out(0x21, 0x10);  // mask IR4
  f.out(0x20, 0x68);  // OCW3: set special mask
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x36);
  f.out(0x20, 0x48);  // reset special mask
  CHECK_FALSE(f.pic.master().special_mask);
}

TEST_CASE("pic: cascade through IR2", "[pic]") {
  PicFixture f;
  f.init();
  f.pulse(12);
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x3C);
  CHECK(f.isr() == 0x04);
  CHECK(f.isr(true) == 0x10);
  // Slave IRQ while IR2 is in service at the master: waits (fully nested).
  f.pulse(9);
  CHECK_FALSE(f.pic.pending());
  f.eoi(true);
  f.eoi();
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x39);
  // Master IRQs above IR2 preempt a slave IRQ in service.
  f.pulse(1);
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x31);
  // IRQ2 on the ISA bus is not an input (it is the cascade).
  f.eoi();
  f.eoi(true);
  f.eoi();
  f.pic.set_irq(2, true);
  CHECK_FALSE(f.pic.pending());
  // The slave's IMR masks only its own inputs.
  f.out(0xA1, 0x01);
  f.pulse(8);
  CHECK_FALSE(f.pic.pending());
  f.out(0xA1, 0x00);
  CHECK(f.pic.acknowledge() == 0x38);
}

TEST_CASE("pic: special fully nested mode lets the slave nest", "[pic]") {
  PicFixture f;
  f.init();
  f.out(0x20, 0x11);
  f.out(0x21, 0x30);
  f.out(0x21, 0x04);
  f.out(0x21, 0x11);  // ICW4: SFNM | uPM
  CHECK(f.pic.master().special_fully_nested);
  f.out(0x21, 0x00);
  f.pulse(12);
  CHECK(f.pic.acknowledge() == 0x3C);
  f.pulse(9);  // higher priority on the slave
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x39);
}

TEST_CASE("pic: spurious IRQ7 and IRQ15", "[pic]") {
  PicFixture f;
  f.init();
  f.out(0x4D0, 0x20);  // IRQ5 level
  f.pic.set_irq(5, true);
  CHECK(f.pic.pending());
  f.pic.set_irq(5, false);  // request withdrawn before INTA
  CHECK_FALSE(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x37);
  CHECK(f.isr() == 0);  // a spurious IRQ7 sets no ISR bit
  // Slave: the master latched the edge on IR2; the slave's level request is gone.
  f.out(0x4D1, 0x04);  // IRQ10 level
  f.pic.set_irq(10, true);
  f.pic.set_irq(10, false);
  CHECK(f.pic.pending());
  CHECK(f.pic.acknowledge() == 0x3F);
  CHECK(f.isr() == 0x04);  // the master saw a real IR2
  CHECK(f.isr(true) == 0x00);
}

TEST_CASE("pic: ELCR level inputs and masks", "[pic]") {
  PicFixture f;
  f.init();
  f.out(0x4D0, 0xFF);
  f.out(0x4D1, 0xFF);
  CHECK(f.in(0x4D0) == 0xF8);  // IRQ0-2 are edge-only
  CHECK(f.in(0x4D1) == 0xDE);  // IRQ8 and IRQ13 are edge-only
  f.pic.set_irq(11, true);
  CHECK(f.pic.acknowledge() == 0x3B);
  CHECK(f.irr(true) == 0x08);  // level IRR stays while the line is high
  f.eoi(true);
  f.eoi();
  CHECK(f.pic.pending());      // still high: requests again
  CHECK(f.pic.acknowledge() == 0x3B);
  f.pic.set_irq(11, false);
  CHECK(f.irr(true) == 0x00);
  f.eoi(true);
  f.eoi();
  CHECK_FALSE(f.pic.pending());
  // Switching an input to level while its line is high requests at once.
  f.out(0x4D0, 0x00);
  f.pic.set_irq(7, true);
  f.pic.acknowledge();
  f.eoi();
  CHECK_FALSE(f.pic.pending());
  f.out(0x4D0, 0x80);
  CHECK(f.pic.pending());
}

TEST_CASE("pic: word access splits into byte cycles; other ports float", "[pic]") {
  PicFixture f;
  f.init();
  f.out(0x21, 0x12);
  f.out(0x20, 0x0A);
  CHECK(f.pic.read(0x20, 2) == 0x1200);  // IRR (0) | IMR << 8
  f.pic.write(0x4D0, 2, 0x0820);
  CHECK(f.in(0x4D0) == 0x20);
  CHECK(f.in(0x4D1) == 0x08);
  CHECK(f.pic.read(0x21, 2) == 0xFF12);  // 0x22 is not ours
  CHECK_FALSE(mamori::devices::pic::PicPair::handles(0x22));
}

TEST_CASE("pic: reset returns to power-on state", "[pic]") {
  PicFixture f;
  f.init();
  f.out(0x4D0, 0x20);
  f.pulse(3);
  f.pic.reset();
  CHECK_FALSE(f.pic.pending());
  CHECK(f.pic.master().vector_base == 0);
  CHECK(f.in(0x4D0) == 0);
  CHECK(f.in(0x21) == 0);
}
