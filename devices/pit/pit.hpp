// The PC's 8254 programmable interval timer (Intel 8254 datasheet, order
// 231164) at 0x40-0x43, clocked at 1.193182 MHz, and system control port B
// at 0x61 (IBM PC/AT Technical Reference, "System Timers"; PIIX4 datasheet
// §4.7.2 NMI Status and Control register): bit 0 = channel 2 GATE, bit 1 =
// speaker data enable, bits 2-3 stored, bit 4 = refresh request toggle,
// bit 5 = OUT2.
//
// Channel 0's GATE is tied high and its OUT drives ISA IRQ0 (edge);
// channel 1 (DRAM refresh) has no output here; channel 2's GATE is port
// 0x61 bit 0 and its OUT is read back in port 0x61 bit 5.
//
// Counting is computed from the Clock: the CLK edge count at time t is
// floor(t * 1193182 / hz). No per-tick work: reads compute the counter
// and OUT from the elapsed edge count; next_event() says when channel 0's
// OUT next rises so the VMM can call update() to raise IRQ0. If the VMM
// calls update() late, missed periods coalesce into one IRQ0 edge (the
// guest's clocksource is the TSC, as with lost ticks on real hardware).
#pragma once

#include <stdint.h>

#include "devices/legacy_clock.hpp"
#include "devices/irq.hpp"

namespace mamori::devices::pit {

inline constexpr uint64_t kPitHz = 1193182;  // 14.31818 MHz / 12
inline constexpr uint16_t kCounter0 = 0x40, kControl = 0x43, kPortB = 0x61;
// Port 0x61 bit 4 toggles with each DRAM refresh request: channel 1 as
// the BIOS programs it (mode 2, count 18 = 15.09 us).
inline constexpr uint64_t kRefreshTicks = 18;

enum class Phase : uint8_t {
  Idle,         // control word written, no count yet
  WaitTrigger,  // mode 1/5: count written, waiting for a GATE rising edge
  Counting,     // CE loaded (or loads) at load_tick and counts
  Paused,       // mode 0/4: GATE low, CE frozen
  Stopped,      // mode 2/3: GATE low, OUT high, reload on GATE rising
  Disabled,     // mode 0: first byte of a two-byte count written
};

struct Channel {
  uint8_t control = 0;  // control word bits 5-0 (RW1 RW0 M2 M1 M0 BCD), read-back status
  uint8_t mode = 0;     // 0-5 (M2 M1 M0 = 11x aliases 01x)
  uint8_t rw = 0;       // 1 LSB, 2 MSB, 3 LSB then MSB
  bool bcd = false;
  bool gate = true;
  Phase phase = Phase::Idle;
  uint32_t n = 0;         // initial count (1..65536, or 1..10000 in BCD)
  uint32_t ce0 = 0;       // CE value at load_tick
  uint64_t load_tick = 0; // CLK edge at which CE holds ce0 and counting starts
  bool tc_done = false;   // mode 0: OUT already high; mode 4: strobe already given
  bool pre_out = true;    // OUT before load_tick
  bool pending = false;   // mode 2/3: new count at the end of the current period
  uint32_t pending_n = 0;
  uint64_t pending_tick = 0;
  uint32_t frozen_ce = 0; // CE while not counting
  uint64_t null_until = 0; // Null Count is 1 until this edge (kNever: until trigger)
  // Host interface (datasheet "Read Operations", "Write Operations").
  bool write_msb_next = false;
  uint8_t write_lsb = 0;
  bool read_msb_next = false;
  uint8_t latch_state = 0;  // 0 none, 1 LSB, 2 MSB, 3 LSB then MSB, 4 MSB of 3
  uint16_t latched = 0;
  bool status_latched = false;
  uint8_t status = 0;
};

class Pit {
 public:
  Pit(const Clock& clock, IrqLine* irq0);

  static bool handles(uint16_t port) { return (port >= kCounter0 && port <= kControl) || port == kPortB; }
  uint32_t read(uint16_t port, uint8_t size);
  void write(uint16_t port, uint8_t size, uint32_t value);

  // Clock value at which channel 0's OUT rises next (IRQ0), or kNever.
  uint64_t next_event() const;
  // Bring IRQ0 up to date with the clock (call at or after next_event()).
  void update();
  // Power-on: all channels Idle in mode 0, GATE2 low, port B 0.
  void reset();

  // Observers (tests, fuzz invariants, the VMM console).
  uint16_t counter(uint8_t ch) const;  // CE as the guest would read it (binary)
  bool out(uint8_t ch) const;
  bool irq0_level() const { return irq_level_; }
  const Channel& channel(uint8_t ch) const { return ch_[ch % 3]; }
  uint64_t tick() const;  // CLK edges since clock 0
  uint64_t irq0_edges() const { return irq_edges_; }

 private:
  uint8_t read8(uint16_t port);
  void write8(uint16_t port, uint8_t value);
  void write_control(uint8_t value);
  void write_count(Channel& c, uint64_t t, uint32_t raw);
  void set_gate(Channel& c, uint64_t t, bool gate);
  void latch_count(Channel& c, uint64_t t);
  void latch_status(Channel& c, uint64_t t);
  uint32_t ce_at(const Channel& c, uint64_t t) const;
  bool out_at(const Channel& c, uint64_t t) const;
  uint64_t next_rise_after(const Channel& c, uint64_t t) const;
  void normalize(Channel& c, uint64_t t);
  void freeze(Channel& c, uint64_t t);
  void sync_irq(uint64_t t);

  const Clock& clock_;
  IrqLine* irq0_;
  Channel ch_[3];
  uint8_t port_b_ = 0;  // bits 0-3 as written
  bool irq_level_ = false;
  uint64_t next_edge_ = UINT64_MAX;  // channel 0's next rising edge (CLK edge)
  uint64_t irq_edges_ = 0;
};

// 8254 BCD counting: 4 decades; 0 is the maximum count (10^4, or 2^16 binary).
uint32_t modulus(const Channel& c);

}  // namespace mamori::devices::pit
