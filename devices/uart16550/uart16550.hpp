// The guest's 16550A UART (National Semiconductor PC16550D datasheet,
// June 1995; "Register Description", Table II "Register Summary"), as
// COM1 (0x3F8, ISA IRQ 4) of a PC: eight byte registers at base+0..7.
//
//   +0 RBR (read) / THR (write) / DLL (LCR.DLAB=1)
//   +1 IER / DLM (DLAB=1)        +2 IIR (read) / FCR (write)
//   +3 LCR  +4 MCR  +5 LSR  +6 MSR  +7 SCR
//
// Transmission is instantaneous: a THR write goes to the TxSink at once
// (to the receiver in loopback mode), so THR and the transmitter are always
// empty again and LSR.THRE/TEMT read 1; the THRE interrupt follows the
// datasheet (raised when THR empties and when IER.ETBEI is set while it is
// empty; cleared by an IIR read reporting it or by a THR write). Writes
// with DLAB=1 go to the divisor latch and never reach the sink. Receive
// data comes from the VMM (push_input); a full receiver (16 bytes with
// FIFOs, 1 without) sets LSR.OE and loses the byte. The character-timeout
// interrupt (IIR 0xC) fires 4 character times (from divisor and LCR) after
// the last receive/read activity: the VMM calls update() at next_event().
//
// PC wiring (IBM PC/AT Technical Reference, "Serial/Parallel Adapter"):
// the INTR output reaches the ISA IRQ line only while MCR.OUT2 is set, and
// not in loopback mode, where the datasheet forces OUT2 inactive.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "devices/legacy_clock.hpp"
#include "devices/irq.hpp"

namespace mamori::devices::uart16550 {

// Where transmitted bytes go (the VMM's console, which prefixes lines).
struct TxSink {
  virtual void put(uint8_t byte) = 0;

 protected:
  ~TxSink() = default;
};

inline constexpr uint16_t kCom1 = 0x3F8;
inline constexpr uint8_t kCom1Irq = 4;
inline constexpr size_t kFifoSize = 16;
inline constexpr uint32_t kBaudClock = 115200;  // 1.8432 MHz / 16: baud = clock / divisor

namespace reg {
inline constexpr uint8_t kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
}
namespace ier {
inline constexpr uint8_t kRda = 0x01, kThre = 0x02, kRls = 0x04, kMsr = 0x08;
}
namespace iir {
inline constexpr uint8_t kNone = 0x01, kMsr = 0x00, kThre = 0x02, kRda = 0x04, kRls = 0x06, kTimeout = 0x0C;
inline constexpr uint8_t kFifoEnabled = 0xC0;
}
namespace lcr {
inline constexpr uint8_t kDlab = 0x80;
}
namespace mcr {
inline constexpr uint8_t kDtr = 0x01, kRts = 0x02, kOut1 = 0x04, kOut2 = 0x08, kLoop = 0x10;
}
namespace lsr {
inline constexpr uint8_t kDr = 0x01, kOe = 0x02, kThre = 0x20, kTemt = 0x40;
}
namespace msr {
inline constexpr uint8_t kDcts = 0x01, kDdsr = 0x02, kTeri = 0x04, kDdcd = 0x08;
inline constexpr uint8_t kCts = 0x10, kDsr = 0x20, kRi = 0x40, kDcd = 0x80;
}

class Uart16550 {
 public:
  Uart16550(const Clock& clock, IrqLine* irq, TxSink* sink, uint16_t base = kCom1);

  bool handles(uint16_t port) const { return static_cast<uint16_t>(port - base_) < 8; }
  uint32_t read(uint16_t port, uint8_t size);
  void write(uint16_t port, uint8_t size, uint32_t value);

  // A byte from the outside (the VMM console). false: lost (receiver full
  // → LSR.OE, or loopback mode, where the serial input is disconnected).
  bool push_input(uint8_t byte);
  // Bytes the receiver can take now without an overrun.
  size_t rx_space() const;
  // Modem status inputs (MSR bits 4-7: CTS, DSR, RI, DCD) outside
  // loopback; default CTS|DSR|DCD: a connected terminal.
  void set_modem_inputs(uint8_t msr_bits);

  // Clock value at which the character timeout interrupt fires, or kNever.
  uint64_t next_event() const;
  void update();
  // Master reset (datasheet Table IV): IER, FCR, LCR, MCR, FIFOs cleared.
  void reset();

  // Observers (tests, fuzz invariants, the VMM console).
  bool irq_level() const { return irq_level_; }
  uint8_t interrupt_id() const { return pending_id(clock_.now()); }  // IIR bits 3-0, no side effects
  bool fifo_enabled() const { return fifo_enabled_; }
  size_t rx_count() const { return rx_count_; }
  uint16_t divisor() const { return static_cast<uint16_t>(dll_ | (dlm_ << 8)); }
  uint8_t ier() const { return ier_; }
  uint8_t lcr() const { return lcr_; }
  uint8_t mcr() const { return mcr_; }
  uint64_t overruns() const { return overruns_; }
  uint64_t transmitted() const { return transmitted_; }
  uint64_t char_time() const;  // one character on the line, in clock ticks

 private:
  uint8_t read8(uint8_t offset);
  void write8(uint8_t offset, uint8_t value);
  void receive(uint8_t byte);
  uint8_t pop_rx();
  void clear_rx();
  uint8_t modem_status_lines() const;
  void set_modem_lines(uint8_t now_lines);
  uint8_t trigger_level() const;
  bool timeout_pending(uint64_t now) const;
  uint8_t pending_id(uint64_t now) const;
  void update_irq();

  const Clock& clock_;
  IrqLine* irq_;
  TxSink* sink_;
  uint16_t base_;

  uint8_t rx_[kFifoSize] = {};
  size_t rx_head_ = 0, rx_count_ = 0;
  uint8_t last_rx_ = 0;
  uint64_t timeout_at_ = 0;  // character timeout deadline (clock)
  uint64_t last_eval_ = 0;   // clock value of the last update_irq()

  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0;
  uint8_t dll_ = 1, dlm_ = 0;  // 115200 baud until the guest sets one
  bool fifo_enabled_ = false;
  uint8_t fcr_bits_ = 0;       // FCR bits 7-6 (trigger) and 3 (DMA mode)
  bool overrun_ = false;
  bool thre_pending_ = false;
  uint8_t msr_delta_ = 0;
  uint8_t modem_in_ = msr::kCts | msr::kDsr | msr::kDcd;
  uint8_t lines_ = 0;          // MSR bits 4-7 as last seen (for the deltas)
  bool irq_level_ = false;

  uint64_t overruns_ = 0, transmitted_ = 0;
};

}  // namespace mamori::devices::uart16550
