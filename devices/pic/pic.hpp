// The PC's cascaded 8259A pair (Intel 8259A datasheet, order 231468):
// master at 0x20/0x21 (IR0-7 = ISA IRQ 0-7, slave INT on IR2), slave at
// 0xA0/0xA1 (IRQ 8-15), and the PIIX/ICH edge/level control registers
// ELCR1/ELCR2 at 0x4D0/0x4D1 (Intel 82371AB PIIX4 datasheet §3.1.1.8).
//
// Implemented: ICW1-ICW4 initialization sequence (single/cascade, ICW4
// optional, vector base), OCW1 (IMR), OCW2 (non-specific/specific EOI,
// rotate on EOI, rotate in auto-EOI, set priority), OCW3 (read IRR/ISR,
// poll, special mask), auto-EOI, special fully nested mode (master),
// edge/level per ELCR (ICW1.LTIM is not used by PC chipsets: the ELCR
// decides), priority resolution with rotation, INTA with spurious IRQ7/15.
//
// The pair's INT output (master INT) goes to the CPU's INTR (LINT0 in
// ExtINT mode); the VMM asks pending() and runs the INTA cycle with
// acknowledge(), which returns the vector.
#pragma once

#include <stdint.h>

#include "devices/irq.hpp"

namespace mamori::devices::pic {

inline constexpr uint16_t kMasterCmd = 0x20, kMasterData = 0x21;
inline constexpr uint16_t kSlaveCmd = 0xA0, kSlaveData = 0xA1;
inline constexpr uint16_t kElcr1 = 0x4D0, kElcr2 = 0x4D1;
inline constexpr uint8_t kCascadeIr = 2;  // slave INT on master IR2 (PC wiring)

// One 8259A. Public so tests and the fuzz target can check invariants.
struct Chip {
  uint8_t irr = 0, isr = 0, imr = 0;
  uint8_t lines = 0;          // level of the IR inputs (edge detection)
  uint8_t elcr = 0;           // 1 = level-triggered input
  uint8_t elcr_mask = 0;      // ELCR bits that can be set
  uint8_t vector_base = 0;    // ICW2 T7-T3
  uint8_t priority_add = 0;   // IR with lowest priority + 1 (rotation)
  uint8_t init_state = 0;     // 0 ready, 1 expect ICW2, 2 ICW3, 3 ICW4
  uint8_t icw3 = 0;
  bool icw4_needed = false, single = false;
  bool read_isr = false;      // OCW3 RR/RIS: what port A reads
  bool poll = false;          // OCW3 P: next read is a poll
  bool special_mask = false;  // OCW3 SMM
  bool auto_eoi = false, rotate_auto_eoi = false, special_fully_nested = false;
  bool is_master = false;
};

class PicPair {
 public:
  // `intr` is the pair's INT output (may be null: the VMM polls pending()).
  explicit PicPair(IrqLine* intr = nullptr);

  static bool handles(uint16_t port) {
    return port == kMasterCmd || port == kMasterData || port == kSlaveCmd || port == kSlaveData ||
           port == kElcr1 || port == kElcr2;
  }
  uint32_t read(uint16_t port, uint8_t size);
  void write(uint16_t port, uint8_t size, uint32_t value);

  // ISA IRQ input 0-15 (2 is the cascade: ignored, as on a PC where IRQ2
  // is wired to IRQ9). Edge inputs latch IRR on false→true.
  void set_irq(uint8_t irq, bool level);
  IrqLine& line(uint8_t irq) { return inputs_[irq & 15]; }

  // The INT output: a request that beats the in-service priority.
  bool pending() const { return output_; }
  // The INTA cycle (8259A datasheet "Interrupt Sequence"): sets ISR (unless
  // auto-EOI), clears an edge IRR bit, returns the vector. With no request
  // (line dropped before INTA) the chip answers IR7 without setting ISR:
  // the spurious IRQ7 (or IRQ15 from the slave).
  uint8_t acknowledge();

  // Power-on state (chips uninitialized, all vectors 0, ELCR cleared).
  void reset();

  const Chip& master() const { return chip_[0]; }
  const Chip& slave() const { return chip_[1]; }

 private:
  struct Input final : IrqLine {
    PicPair* pair = nullptr;
    uint8_t irq = 0;
    void set_level(bool level) override { pair->set_irq(irq, level); }
  };

  uint8_t read8(uint16_t port);
  void write8(uint16_t port, uint8_t value);
  void write_cmd(Chip& c, uint8_t value);
  void write_data(Chip& c, uint8_t value);
  void chip_input(Chip& c, uint8_t ir, bool level);
  void intack(Chip& c, uint8_t ir);
  void update();

  Chip chip_[2];
  Input inputs_[16];
  IrqLine* intr_;
  bool output_ = false;
};

// Highest-priority request of `c` that may interrupt now, or -1.
int chip_request(const Chip& c);

}  // namespace mamori::devices::pic
