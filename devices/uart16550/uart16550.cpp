#include "devices/uart16550/uart16550.hpp"

#include "devices/port_bytes.hpp"

namespace mamori::devices::uart16550 {

Uart16550::Uart16550(const Clock& clock, IrqLine* irq, TxSink* sink, uint16_t base)
    : clock_(clock), irq_(irq), sink_(sink), base_(base) {
  reset();
}

void Uart16550::reset() {
  // PC16550D Table IV: MR clears IER, IIR to 01, FCR, LCR, MCR, LSR to
  // 60 (THRE|TEMT), MSR deltas; the divisor latch and SCR are not reset.
  ier_ = lcr_ = mcr_ = 0;
  fifo_enabled_ = false;
  fcr_bits_ = 0;
  clear_rx();
  last_rx_ = 0;
  overrun_ = false;
  thre_pending_ = false;
  msr_delta_ = 0;
  lines_ = modem_status_lines();
  last_eval_ = clock_.now();
  update_irq();
}

uint32_t Uart16550::read(uint16_t port, uint8_t size) {
  return read_bytes(port, size, [this](uint16_t p) {
    return handles(p) ? read8(static_cast<uint8_t>(p - base_)) : uint8_t{0xFF};
  });
}

void Uart16550::write(uint16_t port, uint8_t size, uint32_t value) {
  write_bytes(port, size, value, [this](uint16_t p, uint8_t v) {
    if (handles(p)) write8(static_cast<uint8_t>(p - base_), v);
  });
}

uint64_t Uart16550::char_time() const {
  // Start bit, 5-8 data bits, optional parity, 1 or 2 stop bits (1.5 with
  // 5-bit words), in half bits; one bit = divisor / 115200 s.
  const uint32_t data = 5 + (lcr_ & 3);
  uint32_t half_bits = 2 * (1 + data) + ((lcr_ & 0x08) ? 2 : 0);
  half_bits += (lcr_ & 0x04) ? (data == 5 ? 3 : 4) : 2;
  const uint32_t div = divisor() ? divisor() : 0x10000;  // 0: the counter wraps
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  const uint64_t t = muldiv(uint64_t{half_bits} * div, hz, 2ull * kBaudClock);
  return t ? t : 1;
}

uint8_t Uart16550::trigger_level() const {
  // FCR bits 7-6: RCVR FIFO trigger level 1, 4, 8, 14 bytes.
  static constexpr uint8_t kLevels[4] = {1, 4, 8, 14};
  return fifo_enabled_ ? kLevels[fcr_bits_ >> 6] : 1;
}

size_t Uart16550::rx_space() const {
  if (mcr_ & mcr::kLoop) return 0;
  return (fifo_enabled_ ? kFifoSize : 1) - rx_count_;
}

void Uart16550::clear_rx() {
  rx_head_ = rx_count_ = 0;
}

void Uart16550::receive(uint8_t byte) {
  const size_t cap = fifo_enabled_ ? kFifoSize : 1;
  if (rx_count_ == cap) {
    // Overrun (LSR bit 1): without FIFOs the new character overwrites RBR;
    // with FIFOs the FIFO is kept and the character in the shift register
    // is lost.
    overrun_ = true;
    ++overruns_;
    if (!fifo_enabled_) rx_[rx_head_] = byte;
  } else {
    rx_[(rx_head_ + rx_count_) % kFifoSize] = byte;
    ++rx_count_;
  }
  timeout_at_ = clock_.now() + 4 * char_time();
}

uint8_t Uart16550::pop_rx() {
  if (rx_count_ == 0) return last_rx_;
  last_rx_ = rx_[rx_head_];
  rx_head_ = (rx_head_ + 1) % kFifoSize;
  --rx_count_;
  timeout_at_ = clock_.now() + 4 * char_time();  // a read restarts the timeout
  return last_rx_;
}

bool Uart16550::push_input(uint8_t byte) {
  if (mcr_ & mcr::kLoop) return false;  // serial input disconnected in loopback
  const bool fits = rx_space() > 0;
  const uint8_t mask = static_cast<uint8_t>((1u << (5 + (lcr_ & 3))) - 1);
  receive(byte & mask);
  update_irq();
  return fits;
}

uint8_t Uart16550::modem_status_lines() const {
  if (!(mcr_ & mcr::kLoop)) return modem_in_ & 0xF0;
  // Loopback: CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2 (datasheet MCR bit 4).
  uint8_t v = 0;
  if (mcr_ & mcr::kRts) v |= msr::kCts;
  if (mcr_ & mcr::kDtr) v |= msr::kDsr;
  if (mcr_ & mcr::kOut1) v |= msr::kRi;
  if (mcr_ & mcr::kOut2) v |= msr::kDcd;
  return v;
}

void Uart16550::set_modem_lines(uint8_t now) {
  const uint8_t changed = now ^ lines_;
  if (changed & msr::kCts) msr_delta_ |= msr::kDcts;
  if (changed & msr::kDsr) msr_delta_ |= msr::kDdsr;
  if ((changed & msr::kRi) && !(now & msr::kRi)) msr_delta_ |= msr::kTeri;  // trailing edge
  if (changed & msr::kDcd) msr_delta_ |= msr::kDdcd;
  lines_ = now;
}

void Uart16550::set_modem_inputs(uint8_t bits) {
  modem_in_ = bits & 0xF0;
  set_modem_lines(modem_status_lines());
  update_irq();
}

bool Uart16550::timeout_pending(uint64_t now) const {
  // Character timeout (IIR 0xC): FIFO mode, at least one character, none
  // received or read for 4 character times (datasheet "FIFO Interrupt Mode Operation").
  return fifo_enabled_ && rx_count_ > 0 && now >= timeout_at_;
}

uint8_t Uart16550::pending_id(uint64_t now) const {
  // Priority (datasheet Table IV "Interrupt Control Functions"): receiver
  // line status > received data / timeout > THR empty > modem status.
  if ((ier_ & ier::kRls) && overrun_) return iir::kRls;
  if (ier_ & ier::kRda) {
    if (rx_count_ >= trigger_level()) return iir::kRda;
    if (timeout_pending(now)) return iir::kTimeout;
  }
  if ((ier_ & ier::kThre) && thre_pending_) return iir::kThre;
  if ((ier_ & ier::kMsr) && (msr_delta_ & 0x0F)) return iir::kMsr;
  return iir::kNone;
}

uint64_t Uart16550::next_event() const {
  if (!(ier_ & ier::kRda) || !fifo_enabled_ || rx_count_ == 0 || rx_count_ >= trigger_level()) return kNever;
  // Pending but not yet seen by an update: the VMM should come now.
  return timeout_at_ > last_eval_ ? timeout_at_ : kNever;
}

void Uart16550::update() { update_irq(); }

void Uart16550::update_irq() {
  const uint64_t now = clock_.now();
  last_eval_ = now;
  const bool intr = pending_id(now) != iir::kNone;
  const bool level = intr && (mcr_ & mcr::kOut2) && !(mcr_ & mcr::kLoop);
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_) irq_->set_level(level);
  }
}

uint8_t Uart16550::read8(uint8_t off) {
  uint8_t v = 0;
  switch (off) {
    case reg::kRbrThr:
      v = (lcr_ & lcr::kDlab) ? dll_ : pop_rx();
      break;
    case reg::kIer:
      v = (lcr_ & lcr::kDlab) ? dlm_ : ier_;
      break;
    case reg::kIirFcr: {
      const uint8_t id = pending_id(clock_.now());
      // Reading IIR clears a THRE interrupt it reports (datasheet Table IV).
      if (id == iir::kThre) thre_pending_ = false;
      v = static_cast<uint8_t>(id | (fifo_enabled_ ? iir::kFifoEnabled : 0));
      break;
    }
    case reg::kLcr:
      v = lcr_;
      break;
    case reg::kMcr:
      v = mcr_;
      break;
    case reg::kLsr:
      // THR and transmitter are always empty (instant transmission); reading
      // LSR clears OE and with it the line status interrupt.
      v = static_cast<uint8_t>(lsr::kThre | lsr::kTemt | (rx_count_ ? lsr::kDr : 0) | (overrun_ ? lsr::kOe : 0));
      overrun_ = false;
      break;
    case reg::kMsr:
      set_modem_lines(modem_status_lines());
      v = static_cast<uint8_t>(lines_ | msr_delta_);
      msr_delta_ = 0;  // the delta bits reset on read
      break;
    default:
      v = scr_;
      break;
  }
  update_irq();
  return v;
}

void Uart16550::write8(uint8_t off, uint8_t v) {
  switch (off) {
    case reg::kRbrThr:
      if (lcr_ & lcr::kDlab) {
        dll_ = v;  // divisor latch: never a character
        break;
      }
      {
        const uint8_t mask = static_cast<uint8_t>((1u << (5 + (lcr_ & 3))) - 1);
        const uint8_t byte = v & mask;  // only the word-length bits go out
        ++transmitted_;
        if (mcr_ & mcr::kLoop)
          receive(byte);
        else if (sink_)
          sink_->put(byte);
        // The THR write cleared the THRE interrupt; the byte left at once,
        // so THR is empty again, which raises it.
        thre_pending_ = true;
      }
      break;
    case reg::kIer:
      if (lcr_ & lcr::kDlab) {
        dlm_ = v;
        break;
      }
      {
        const uint8_t old = ier_;
        ier_ = v & 0x0F;  // bits 4-7 are always 0 on the 16550
        // Enabling ETBEI with an empty THR raises THRE (Linux's THRE test
        // in serial8250_do_startup relies on it); disabling drops it.
        if ((ier_ & ier::kThre) && !(old & ier::kThre)) thre_pending_ = true;
        if (!(ier_ & ier::kThre)) thre_pending_ = false;
      }
      break;
    case reg::kIirFcr: {
      // FCR. Changing FCR0 clears both FIFOs; the other bits are written
      // only with FCR0 = 1 (datasheet "FIFO Control Register").
      const bool enable = v & 0x01;
      if (enable != fifo_enabled_) {
        clear_rx();
        fifo_enabled_ = enable;
      }
      if (!enable) {
        fcr_bits_ = 0;
        break;
      }
      if (v & 0x02) clear_rx();            // RCVR FIFO reset
      if (v & 0x04) thre_pending_ = (ier_ & ier::kThre) != 0;  // XMIT FIFO reset: empty
      fcr_bits_ = v & 0xC8;
      break;
    }
    case reg::kLcr:
      lcr_ = v;
      break;
    case reg::kMcr:
      mcr_ = v & 0x1F;  // bits 5-7 are always 0
      set_modem_lines(modem_status_lines());
      break;
    case reg::kLsr:
    case reg::kMsr:
      break;  // read-only (factory test writes are not modelled)
    default:
      scr_ = v;
      break;
  }
  update_irq();
}

}  // namespace mamori::devices::uart16550
