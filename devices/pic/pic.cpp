#include "devices/pic/pic.hpp"

#include "devices/port_bytes.hpp"

namespace mamori::devices::pic {

namespace {

// Priority level (0 = highest) of the highest set bit of `mask`, counting
// from the IR after the lowest-priority one (8259A "Rotating Priority"):
// 8 when mask is empty.
uint8_t priority(const Chip& c, uint8_t mask) {
  if (mask == 0) return 8;
  uint8_t p = 0;
  while ((mask & (1u << ((p + c.priority_add) & 7))) == 0) ++p;
  return p;
}

uint8_t ir_of(const Chip& c, uint8_t prio) { return static_cast<uint8_t>((prio + c.priority_add) & 7); }

}  // namespace

int chip_request(const Chip& c) {
  const uint8_t req = priority(c, static_cast<uint8_t>(c.irr & ~c.imr));
  if (req == 8) return -1;
  uint8_t in_service = c.isr;
  // Special mask mode: masked in-service levels do not block lower ones
  // (datasheet "Special Mask Mode").
  if (c.special_mask) in_service &= static_cast<uint8_t>(~c.imr);
  // Special fully nested mode (ICW4 SFNM, master): a further request from
  // the slave is recognised while the slave's IR is in service.
  if (c.special_fully_nested && c.is_master) in_service &= static_cast<uint8_t>(~(1u << kCascadeIr));
  const uint8_t cur = priority(c, in_service);
  if (req < cur) return ir_of(c, req);
  return -1;
}

PicPair::PicPair(IrqLine* intr) : intr_(intr) {
  for (uint8_t i = 0; i < 16; ++i) inputs_[i].pair = this, inputs_[i].irq = i;
  reset();
}

void PicPair::reset() {
  for (int i = 0; i < 2; ++i) {
    const uint8_t lines = chip_[i].lines;  // the devices' outputs are not reset
    chip_[i] = Chip{};
    chip_[i].lines = lines;
    chip_[i].is_master = i == 0;
  }
  // ELCR: IRQ0, 1, 2 (master) and IRQ8, 13 (slave) are edge-only on PIIX/ICH.
  chip_[0].elcr_mask = 0xF8;
  chip_[1].elcr_mask = 0xDE;
  update();
}

uint32_t PicPair::read(uint16_t port, uint8_t size) {
  return read_bytes(port, size, [this](uint16_t p) { return handles(p) ? read8(p) : uint8_t{0xFF}; });
}

void PicPair::write(uint16_t port, uint8_t size, uint32_t value) {
  write_bytes(port, size, value, [this](uint16_t p, uint8_t v) {
    if (handles(p)) write8(p, v);
  });
}

uint8_t PicPair::read8(uint16_t port) {
  if (port == kElcr1) return chip_[0].elcr;
  if (port == kElcr2) return chip_[1].elcr;
  Chip& c = chip_[(port & 0x80) ? 1 : 0];
  if (c.poll) {
    // Poll command (OCW3 P=1): this read is an INTA for the chip; bit 7 =
    // a request was pending, bits 2-0 its level (datasheet "The Poll Command").
    c.poll = false;
    const int ir = chip_request(c);
    if (ir < 0) return 0;
    intack(c, static_cast<uint8_t>(ir));
    update();
    return static_cast<uint8_t>(0x80 | ir);
  }
  if ((port & 1) == 0) return c.read_isr ? c.isr : c.irr;
  return c.imr;  // OCW1 read back (Linux's probe_8259A depends on it)
}

void PicPair::write8(uint16_t port, uint8_t value) {
  if (port == kElcr1 || port == kElcr2) {
    Chip& c = chip_[port == kElcr1 ? 0 : 1];
    c.elcr = value & c.elcr_mask;
    // A level input's IRR follows its line.
    c.irr = static_cast<uint8_t>((c.irr & ~c.elcr) | (c.lines & c.elcr));
    update();
    return;
  }
  Chip& c = chip_[(port & 0x80) ? 1 : 0];
  if ((port & 1) == 0)
    write_cmd(c, value);
  else
    write_data(c, value);
  update();
}

void PicPair::write_cmd(Chip& c, uint8_t v) {
  if (v & 0x10) {
    // ICW1 (A0=0, D4=1). Datasheet "Initialization Command Words": the
    // edge sense circuit is reset (an edge input must go low→high again),
    // IMR cleared, IR7 lowest priority, special mask cleared, status read
    // set to IRR, and without IC4 all ICW4 functions are zero. The ELCR
    // is chipset state and survives.
    const uint8_t lines = c.lines, elcr = c.elcr, mask = c.elcr_mask;
    const bool master = c.is_master;
    c = Chip{};
    c.lines = lines, c.elcr = elcr, c.elcr_mask = mask, c.is_master = master;
    c.irr = lines & elcr;
    c.icw4_needed = v & 0x01;
    c.single = v & 0x02;
    c.init_state = 1;
    return;
  }
  if (v & 0x08) {
    // OCW3 (D4=0, D3=1): ESMM/SMM (D6/D5), P (D2), RR/RIS (D1/D0).
    if (v & 0x04) c.poll = true;
    if (v & 0x02) c.read_isr = v & 0x01;
    if (v & 0x40) c.special_mask = (v >> 5) & 1;
    return;
  }
  // OCW2 (D4=0, D3=0): R SL EOI in D7-D5, level in D2-D0.
  const uint8_t level = v & 7;
  switch (v >> 5) {
    case 0:  // rotate in automatic EOI mode (clear)
    case 4:  // rotate in automatic EOI mode (set)
      c.rotate_auto_eoi = (v >> 7) & 1;
      break;
    case 1:    // non-specific EOI: clears the highest-priority ISR bit
    case 5: {  // rotate on non-specific EOI: that IR becomes lowest priority
      const uint8_t p = priority(c, c.isr);
      if (p == 8) break;
      const uint8_t ir = ir_of(c, p);
      c.isr = static_cast<uint8_t>(c.isr & ~(1u << ir));
      if ((v >> 5) == 5) c.priority_add = (ir + 1) & 7;
      break;
    }
    case 3:  // specific EOI
      c.isr = static_cast<uint8_t>(c.isr & ~(1u << level));
      break;
    case 7:  // rotate on specific EOI
      c.isr = static_cast<uint8_t>(c.isr & ~(1u << level));
      c.priority_add = (level + 1) & 7;
      break;
    case 6:  // set priority: `level` becomes the lowest
      c.priority_add = (level + 1) & 7;
      break;
    default:  // 2: no operation
      break;
  }
}

void PicPair::write_data(Chip& c, uint8_t v) {
  switch (c.init_state) {
    case 1:  // ICW2: T7-T3 of the vector (x86 mode: IR number in T2-T0)
      c.vector_base = v & 0xF8;
      c.init_state = c.single ? (c.icw4_needed ? 3 : 0) : 2;
      break;
    case 2:  // ICW3: master's slave bitmap / slave's ID. The PC wiring is
             // fixed (slave on IR2), so the value is kept for reading only.
      c.icw3 = v;
      c.init_state = c.icw4_needed ? 3 : 0;
      break;
    case 3:  // ICW4: uPM (D0, must be 1 for x86), AEOI (D1), BUF/MS, SFNM (D4)
      c.auto_eoi = (v >> 1) & 1;
      c.special_fully_nested = (v >> 4) & 1;
      c.init_state = 0;
      break;
    default:  // OCW1: the interrupt mask
      c.imr = v;
      break;
  }
}

void PicPair::chip_input(Chip& c, uint8_t ir, bool level) {
  const uint8_t bit = static_cast<uint8_t>(1u << ir);
  const bool was = c.lines & bit;
  if (level)
    c.lines |= bit;
  else
    c.lines = static_cast<uint8_t>(c.lines & ~bit);
  if (c.elcr & bit) {
    // Level-triggered: IRR follows the line.
    c.irr = level ? static_cast<uint8_t>(c.irr | bit) : static_cast<uint8_t>(c.irr & ~bit);
  } else if (level && !was) {
    c.irr |= bit;  // edge-triggered: latch the rising edge
  }
}

void PicPair::set_irq(uint8_t irq, bool level) {
  irq &= 15;
  if (irq == kCascadeIr) return;  // IR2 is the slave's INT, not an ISA line
  chip_input(chip_[irq >> 3], irq & 7, level);
  update();
}

void PicPair::intack(Chip& c, uint8_t ir) {
  const uint8_t bit = static_cast<uint8_t>(1u << ir);
  if (c.auto_eoi) {
    // AEOI: the ISR bit is reset at the end of the last INTA pulse;
    // with rotate-in-AEOI the IR becomes lowest priority.
    if (c.rotate_auto_eoi) c.priority_add = (ir + 1) & 7;
  } else {
    c.isr |= bit;
  }
  // An edge request is consumed by INTA; a level one stays while its line is high.
  if (!(c.elcr & bit)) c.irr = static_cast<uint8_t>(c.irr & ~bit);
}

uint8_t PicPair::acknowledge() {
  Chip& m = chip_[0];
  Chip& s = chip_[1];
  uint8_t vector;
  const int ir = chip_request(m);
  if (ir < 0) {
    vector = static_cast<uint8_t>(m.vector_base | 7);  // spurious IRQ7, ISR untouched
  } else {
    intack(m, static_cast<uint8_t>(ir));
    if (ir == kCascadeIr && !m.single) {
      const int sir = chip_request(s);
      if (sir < 0) {
        vector = static_cast<uint8_t>(s.vector_base | 7);  // spurious IRQ15
      } else {
        intack(s, static_cast<uint8_t>(sir));
        vector = static_cast<uint8_t>(s.vector_base | sir);
      }
    } else {
      vector = static_cast<uint8_t>(m.vector_base | ir);
    }
  }
  update();
  return vector;
}

void PicPair::update() {
  // The slave's INT drives master IR2 (edge or level per ELCR1 bit 2,
  // which the PIIX keeps at edge).
  if (!chip_[0].single) chip_input(chip_[0], kCascadeIr, chip_request(chip_[1]) >= 0);
  const bool out = chip_request(chip_[0]) >= 0;
  if (out != output_) {
    output_ = out;
    if (intr_) intr_->set_level(out);
  }
}

}  // namespace mamori::devices::pic
