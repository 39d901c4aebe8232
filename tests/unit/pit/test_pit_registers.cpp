// Register- and mode-level tests of the 8254 model (Intel 8254 datasheet
// "Mode Definitions", "Read Operations", "Read-Back Command"). The fixture
// clock runs at the PIT rate, so clock ticks are CLK edges.
#include <catch.hpp>

#include "tests/unit/pit/pit_fixture.hpp"

using mamori::devices::kNever;
using mamori::devices::pit::kPitHz;
using mamori::test::PitFixture;

TEST_CASE("pit: mode 0 loads on the next CLK and rises N+1 CLKs after the write", "[pit]") {
  PitFixture f;
  f.clock.t = 1000;
  f.program(0, 0, 100);
  CHECK_FALSE(f.pit.out(0));
  CHECK_FALSE(f.irq.level);
  f.clock.t = 1001;
  CHECK(f.pit.counter(0) == 100);
  f.clock.t = 1050;
  CHECK(f.pit.counter(0) == 51);
  CHECK(f.pit.next_event() == 1101);
  f.clock.t = 1100;
  CHECK(f.pit.counter(0) == 1);
  CHECK_FALSE(f.pit.out(0));
  f.clock.t = 1101;
  CHECK(f.pit.counter(0) == 0);
  CHECK(f.pit.out(0));
  f.pit.update();
  CHECK(f.irq.level);
  CHECK(f.irq.rising == 1);
  CHECK(f.pit.next_event() == kNever);
  // The counter wraps and OUT stays high until reprogrammed.
  f.clock.t = 1201;
  CHECK(f.pit.counter(0) == 0x10000 - 100);
  CHECK(f.pit.out(0));
  f.out(0x43, 0x30);  // new control word: OUT low at once
  CHECK_FALSE(f.irq.level);
}

TEST_CASE("pit: mode 0 first byte disables counting until the second", "[pit]") {
  PitFixture f;
  f.program(0, 0, 50);
  f.clock.t = 10;
  f.out(0x40, 0x20);  // LSB only: counting stops
  const uint16_t frozen = f.pit.counter(0);
  CHECK(frozen == 41);
  f.clock.t = 500;
  CHECK(f.pit.counter(0) == frozen);
  CHECK_FALSE(f.pit.out(0));
  CHECK(f.pit.next_event() == kNever);
  f.out(0x40, 0x00);  // MSB: count 0x0020 loads on the next CLK
  CHECK(f.pit.next_event() == 500 + 1 + 0x20);
}

TEST_CASE("pit: mode 2 rate generator: OUT low for one CLK per period", "[pit]") {
  PitFixture f;
  f.program(0, 2, 10);  // written at 0: loaded at 1
  f.clock.t = 1;
  CHECK(f.pit.counter(0) == 10);
  CHECK(f.pit.out(0));
  f.clock.t = 10;
  CHECK(f.pit.counter(0) == 1);
  CHECK_FALSE(f.pit.out(0));
  f.clock.t = 11;
  CHECK(f.pit.counter(0) == 10);
  CHECK(f.pit.out(0));
  f.clock.t = 0;
  f.pit.update();
  CHECK(f.pit.next_event() == 11);
  const int base = f.irq.rising;  // the control word raised OUT (mode 2 starts high)
  f.run_until(11 + 10 * 99);
  CHECK(f.irq.rising - base == 100);
}

TEST_CASE("pit: mode 2 new count takes effect at the end of the period", "[pit]") {
  PitFixture f;
  f.program(0, 2, 100);
  f.clock.t = 51;  // 50 CLKs into the first period (loaded at 1)
  f.out(0x40, 20);
  f.out(0x40, 0);
  CHECK(f.pit.counter(0) == 50);
  f.clock.t = 101;
  CHECK(f.pit.counter(0) == 20);  // new period of 20 from 101
  f.clock.t = 111;
  CHECK(f.pit.counter(0) == 10);
  f.clock.t = 51;
  f.pit.update();
  CHECK(f.pit.next_event() == 101);
  const int base = f.irq.rising;
  f.run_until(101 + 20 * 5);
  CHECK(f.irq.rising - base == 6);
}

TEST_CASE("pit: mode 3 square wave, even and odd counts, through OUT2", "[pit]") {
  PitFixture f;
  f.out(0x61, 0x01);  // GATE2 high
  f.program(2, 3, 10);
  int high = 0;
  for (uint64_t t = 1; t < 11; ++t) {
    f.clock.t = t;
    high += f.out2();
  }
  CHECK(high == 5);
  f.clock.t = 1;
  CHECK(f.pit.counter(2) == 10);
  f.clock.t = 2;
  CHECK(f.pit.counter(2) == 8);
  f.clock.t = 6;
  CHECK(f.pit.counter(2) == 10);  // second half reloads
  CHECK_FALSE(f.out2());

  f.clock.t = 100;
  f.program(2, 3, 7);
  high = 0;
  for (uint64_t t = 101; t < 108; ++t) {
    f.clock.t = t;
    high += f.out2();
  }
  CHECK(high == 4);  // (N+1)/2 high, (N-1)/2 low
  f.clock.t = 101;
  CHECK(f.pit.counter(2) == 6);
}

TEST_CASE("pit: mode 3 on channel 0 interrupts once per period", "[pit]") {
  PitFixture f;
  f.program(0, 3, 0);  // 65536: the BIOS's 18.2 Hz tick
  const int base = f.irq.rising;
  f.run_until(kPitHz);
  CHECK(f.irq.rising - base == 18);
  CHECK(f.pit.irq0_edges() == 18);
}

TEST_CASE("pit: mode 4 strobes once", "[pit]") {
  PitFixture f;
  f.out(0x43, 0x38);
  CHECK(f.pit.out(0));
  const int base = f.irq.rising;
  f.out(0x40, 100);
  f.out(0x40, 0);
  CHECK(f.pit.next_event() == 102);
  f.clock.t = 101;
  CHECK_FALSE(f.pit.out(0));
  f.run_until(200000);
  CHECK(f.irq.rising - base == 1);
  CHECK(f.pit.out(0));
}

TEST_CASE("pit: mode 1 one-shot triggered by GATE2", "[pit]") {
  PitFixture f;
  f.program(2, 1, 5);
  CHECK(f.out2());  // waiting for the trigger
  f.clock.t = 10;
  f.out(0x61, 0x01);  // rising edge
  CHECK(f.out2());    // OUT falls on the next CLK
  f.clock.t = 11;
  CHECK_FALSE(f.out2());
  CHECK(f.pit.counter(2) == 5);
  f.clock.t = 15;
  CHECK_FALSE(f.out2());
  f.clock.t = 16;
  CHECK(f.out2());
  // Retrigger restarts the full count.
  f.out(0x61, 0x00);
  f.clock.t = 20;
  f.out(0x61, 0x01);
  f.clock.t = 25;
  CHECK_FALSE(f.out2());
  f.clock.t = 26;
  CHECK(f.out2());
}

TEST_CASE("pit: mode 5 hardware-triggered strobe", "[pit]") {
  PitFixture f;
  f.program(2, 5, 3);
  f.clock.t = 10;
  f.out(0x61, 0x01);
  f.clock.t = 14;
  CHECK_FALSE(f.out2());  // N CLKs after the load edge at 11
  f.clock.t = 15;
  CHECK(f.out2());
}

TEST_CASE("pit: GATE2 low suspends mode 0 and stops mode 2", "[pit]") {
  PitFixture f;
  f.out(0x61, 0x01);
  f.program(2, 0, 100);  // loaded at 1
  f.clock.t = 41;
  CHECK(f.pit.counter(2) == 60);
  f.out(0x61, 0x00);
  f.clock.t = 1000;
  CHECK(f.pit.counter(2) == 60);
  CHECK_FALSE(f.out2());
  f.out(0x61, 0x01);  // resumes on the next CLK
  f.clock.t = 1060;
  CHECK_FALSE(f.out2());
  f.clock.t = 1061;
  CHECK(f.out2());

  f.program(2, 2, 10);  // at 1061, loaded at 1062
  f.clock.t = 1071;
  CHECK_FALSE(f.out2());
  f.out(0x61, 0x00);  // GATE low forces OUT high
  CHECK(f.out2());
  f.clock.t = 1100;
  f.out(0x61, 0x01);  // reload on the next CLK
  f.clock.t = 1101;
  CHECK(f.pit.counter(2) == 10);
}

TEST_CASE("pit: counter latch holds the value and a second latch is ignored", "[pit]") {
  PitFixture f;
  f.program(0, 2, 1000);
  f.clock.t = 101;
  f.out(0x43, 0x00);
  f.clock.t = 200;
  f.out(0x43, 0x00);  // ignored: the first latch is unread
  CHECK(f.in(0x40) == (900 & 0xFF));
  CHECK(f.in(0x40) == (900 >> 8));
  // Unlatched now: a fresh latch sees the current count.
  CHECK(f.latch_read(0) == 801);
}

TEST_CASE("pit: LSB-only and MSB-only access modes", "[pit]") {
  PitFixture f;
  f.out(0x43, 0x14);  // ch0, LSB only, mode 2
  f.out(0x40, 0x40);
  f.clock.t = 1;
  CHECK(f.pit.counter(0) == 0x40);
  CHECK(f.in(0x40) == 0x40);
  CHECK(f.in(0x40) == 0x40);
  f.out(0x43, 0x24);  // ch0, MSB only, mode 2
  f.out(0x40, 0x02);
  f.clock.t = 2;
  CHECK(f.pit.counter(0) == 0x200);
  CHECK(f.in(0x40) == 0x02);
}

TEST_CASE("pit: LSB/MSB read and write flip-flops are independent", "[pit]") {
  PitFixture f;
  f.program(1, 2, 0x1234);
  f.clock.t = 1;
  CHECK(f.in(0x41) == 0x34);  // read LSB
  f.out(0x41, 0x78);          // write new LSB
  CHECK(f.in(0x41) == 0x12);  // read MSB
  f.out(0x41, 0x56);          // write new MSB → pending count 0x5678
  f.clock.t = 1 + 0x1234;
  CHECK(f.pit.counter(1) == 0x5678);
}

TEST_CASE("pit: BCD counting", "[pit]") {
  PitFixture f;
  f.out(0x43, 0x31);  // ch0, LSB/MSB, mode 0, BCD
  f.out(0x40, 0x00);
  f.out(0x40, 0x10);  // 1000 decimal
  f.clock.t = 1;
  CHECK(f.latch_read(0) == 0x1000);
  f.clock.t = 2;
  CHECK(f.latch_read(0) == 0x0999);
  CHECK(f.pit.next_event() == 1001);
  f.out(0x43, 0x31);
  f.out(0x40, 0x00);
  f.out(0x40, 0x00);  // 0 = 10000 in BCD
  f.clock.t = 3;
  CHECK(f.pit.next_event() == 2 + 1 + 10000);
  CHECK(f.latch_read(0) == 0x0000);
  f.clock.t = 4;
  CHECK(f.latch_read(0) == 0x9999);
}

TEST_CASE("pit: read-back command latches status then count", "[pit]") {
  PitFixture f;
  f.out(0x61, 0x01);  // GATE2 high
  f.out(0x43, 0xB0);  // ch2, LSB/MSB, mode 0
  f.out(0x42, 10);
  f.out(0x42, 0);
  // Before the load CLK: Null Count set, OUT low, control bits 110000.
  f.out(0x43, 0xC8);  // read-back: count + status of counter 2
  CHECK(f.in(0x42) == 0x70);
  CHECK(f.in(0x42) == 0x00);  // CE not loaded yet (its old value)
  CHECK(f.in(0x42) == 0x00);
  f.clock.t = 1;
  f.out(0x43, 0xC8);
  CHECK(f.in(0x42) == 0x30);  // Null Count cleared by the load
  CHECK(f.in(0x42) == 10);
  CHECK(f.in(0x42) == 0);
  f.clock.t = 11;
  f.out(0x43, 0xE8);  // status only
  CHECK(f.in(0x42) == 0xB0);  // OUT high
  // Status latch ignored while one is unread; count latch of all counters.
  f.out(0x43, 0x34);
  f.out(0x43, 0xC2);  // count + status of counter 0
  f.out(0x43, 0xC2);
  CHECK(f.in(0x40) == 0xF4);  // OUT high (mode 2), Null Count, control bits 110100
  CHECK(f.in(0x40) == 0x00);
  CHECK(f.in(0x40) == 0x00);
}

TEST_CASE("pit: port 0x61 bits", "[pit]") {
  PitFixture f;
  CHECK((f.in(0x61) & 0x0F) == 0);
  f.out(0x61, 0xFF);
  CHECK((f.in(0x61) & 0xCF) == 0x0F);  // bits 6-7 read 0, 4-5 computed
  f.clock.t = 0;
  const bool r0 = f.in(0x61) & 0x10;
  f.clock.t = 18;
  const bool r1 = f.in(0x61) & 0x10;
  CHECK(r0 != r1);  // the refresh toggle flips every 15 us
  CHECK(f.pit.channel(2).gate);
  f.out(0x61, 0x02);
  CHECK_FALSE(f.pit.channel(2).gate);
}

TEST_CASE("pit: next_event is exact with a TSC clock", "[pit]") {
  PitFixture f(2'400'000'000ull);  // a 2.4 GHz TSC
  f.clock.t = 123'456'789;
  f.program(0, 2, 4773);
  const uint64_t e = f.pit.next_event();
  const int base = f.irq.rising;
  f.clock.t = e - 1;
  f.pit.update();
  CHECK(f.irq.rising == base);
  f.clock.t = e;
  f.pit.update();
  CHECK(f.irq.rising == base + 1);
  // 250 Hz for one second of TSC time.
  f.run_until(f.clock.t + 2'400'000'000ull);
  CHECK(f.irq.rising - base >= 250);
  CHECK(f.irq.rising - base <= 251);
}

TEST_CASE("pit: late updates coalesce into one edge", "[pit]") {
  PitFixture f(1'000'000'000);
  f.program(0, 2, 4773);
  const int base = f.irq.rising;
  for (int i = 1; i <= 100; ++i) {
    f.clock.t = i * 10'000'000ull;  // every 10 ms: 2.5 periods pass
    f.pit.update();
  }
  CHECK(f.irq.rising - base == 100);
  CHECK(f.pit.irq0_edges() == 100);
}

TEST_CASE("pit: word access, floating ports, reset", "[pit]") {
  PitFixture f;
  f.pit.write(0x43, 1, 0x34);
  f.pit.write(0x40, 2, 0x1000);  // two byte cycles: 0x40 (LSB 0x00), 0x41 (ch1 LSB 0x10)
  CHECK(f.pit.channel(0).write_msb_next);
  CHECK(f.in(0x43) == 0xFF);
  CHECK(f.pit.read(0x44, 1) == 0xFF);
  f.program(0, 0, 5);
  f.run_until(10);
  CHECK(f.irq.level);
  f.pit.reset();
  CHECK_FALSE(f.irq.level);
  CHECK(f.pit.next_event() == kNever);
  CHECK_FALSE(f.pit.channel(2).gate);
}
