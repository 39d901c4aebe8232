// Virtual IOAPIC, compatible with the Intel 82093AA I/O Advanced
// Programmable Interrupt Controller (datasheet 290566-001, §3 "Register
// Description"): version 0x11, 24 redirection entries, indirect access
// through IOREGSEL (base + 0x00) and IOWIN (base + 0x10), no EOI register
// (that is version 0x20); level interrupts end through the LAPICs' EOI
// broadcast (EoiListener::eoi), matched by vector.
//
// How the VMM wires it:
//   EPT violation in [base, base + kMmioSize) -> mmio_read/mmio_write
//   device lines (PIT via GSI 2, UART GSI 4, ...) -> set_irq(gsi, level)
//                                                (IrqChip; or a ChipPin)
//   redirection-table messages                -> InterruptRouter::route
//                                                (lapic::ApicBus)
//   LAPIC EOI broadcasts                      -> eoi(vector)
// Levels are logical (asserted = true, see devices/irq.hpp); the entry's
// polarity bit is kept and reported.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "devices/irq.hpp"

namespace mamori::devices::ioapic {

inline constexpr uint64_t kDefaultBase = 0xFEC00000;
// The register window the VMM traps: one page (as QEMU maps it); only
// IOREGSEL and IOWIN exist in it.
inline constexpr uint64_t kMmioSize = 0x1000;
inline constexpr uint64_t kIoRegSel = 0x00;
inline constexpr uint64_t kIoWin = 0x10;

inline constexpr uint32_t kPins = 24;
inline constexpr uint32_t kVersion = 0x11;

// Indirect register indexes (82093AA §3.2).
namespace index {
inline constexpr uint8_t kId = 0x00;
inline constexpr uint8_t kVersion = 0x01;
inline constexpr uint8_t kArbitration = 0x02;
inline constexpr uint8_t kRedirection = 0x10;  // entry n: 0x10 + 2n (low), 0x11 + 2n (high)
}  // namespace index

// Redirection-table entry bits (82093AA §3.2.4).
namespace rte {
inline constexpr uint64_t kVector = 0xFF;
inline constexpr uint64_t kDeliveryModeShift = 8;
inline constexpr uint64_t kDeliveryMode = 7u << 8;
inline constexpr uint64_t kDestLogical = 1u << 11;
inline constexpr uint64_t kDeliveryStatus = 1u << 12;  // RO
inline constexpr uint64_t kPolarityLow = 1u << 13;
inline constexpr uint64_t kRemoteIrr = 1u << 14;  // RO
inline constexpr uint64_t kLevel = 1u << 15;
inline constexpr uint64_t kMasked = 1u << 16;
inline constexpr uint64_t kDestShift = 56;
inline constexpr uint64_t kDest = uint64_t{0xFF} << 56;
// Guest-writable bits; 55:17 are reserved, 12 and 14 read-only.
inline constexpr uint64_t kWritable = kDest | kMasked | kLevel | kPolarityLow | kDestLogical | kDeliveryMode | kVector;
inline constexpr uint64_t kReset = kMasked;  // §3.2.4: masked after reset
}  // namespace rte

struct Config {
  uint8_t id = 0;  // IOAPIC ID (bits 27:24 of register 0), as in the MADT
};

struct IoapicStats {
  uint64_t mmio_reads = 0;
  uint64_t mmio_writes = 0;
  uint64_t mmio_rejected = 0;  // bad size / offset: read 0, write dropped
  uint64_t delivered = 0;      // messages sent to the router
  uint64_t eois = 0;           // EOI broadcasts that cleared a Remote IRR
};

class Ioapic final : public IrqChip, public EoiListener {
 public:
  explicit Ioapic(InterruptRouter& router, const Config& config = {});

  // RESET: every entry masked, IOREGSEL 0, ID from the config.
  void reset();

  uint64_t mmio_read(uint64_t offset, uint8_t size);
  void mmio_write(uint64_t offset, uint8_t size, uint64_t value);

  // IrqChip: pin = GSI 0-23.
  uint32_t pin_count() const override { return kPins; }
  void set_irq(uint32_t pin, bool asserted) override;
  // EoiListener: a LAPIC ended level-triggered `vector`.
  void eoi(uint8_t vector) override;

  // Observers.
  uint64_t entry(uint32_t pin) const { return pin < kPins ? redir_[pin] : 0; }
  bool line(uint32_t pin) const { return pin < kPins && ((lines_ >> pin) & 1u); }
  uint8_t select() const { return select_; }
  uint8_t id() const { return id_; }
  const IoapicStats& stats() const { return stats_; }

 private:
  uint32_t read_indirect(uint8_t index) const;
  void write_indirect(uint8_t index, uint32_t value);
  // Level entry: deliver if asserted, unmasked and Remote IRR clear.
  void service_level(uint32_t pin);
  bool deliver(uint32_t pin);  // the router's answer: accepted

  InterruptRouter& router_;
  Config config_;
  uint64_t redir_[kPins] = {};
  uint32_t lines_ = 0;  // asserted inputs, bit per pin
  uint8_t select_ = 0;
  uint8_t id_ = 0;
  IoapicStats stats_;
};

}  // namespace mamori::devices::ioapic
