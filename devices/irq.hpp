// Interrupt wiring shared by the virtual device models (devices/*).
//
// Three kinds of connection exist on a PC platform, and each has one type:
//
//  1. A wire from a device to an interrupt controller pin: `IrqLine`.
//     Devices (PIT, RTC, 16550, TPM) hold an `IrqLine*` and drive it; they do
//     not know whether the PIC, the IOAPIC or both listen.
//  2. A controller with numbered input pins: `IrqChip` (the IOAPIC by GSI
//     0-23, the 8259A pair by IRQ 0-15, a LAPIC's LINT0/LINT1).
//     `ChipPin` binds one pin of a chip as an `IrqLine`; `IrqFanout` drives
//     several lines from one device output (an ISA IRQ goes to the PIC pin n
//     and to the IOAPIC GSI the MADT's interrupt source override names, e.g.
//     PIT IRQ0 -> PIC pin 0 and GSI 2).
//  3. An APIC-bus / system-bus interrupt message (IOAPIC redirection entry,
//     LAPIC ICR, MSI later): `InterruptMessage`, handed to an
//     `InterruptRouter` (the VMM's, or `lapic::ApicBus`) that finds the
//     destination LAPICs. The LAPIC reports EOIs of level-triggered vectors
//     back through an `EoiListener` (the IOAPIC clears Remote IRR).
//
// Levels are logical: `set_level(true)` means "the device requests an
// interrupt", already resolved for the wire's electrical polarity. This is
// what QEMU (hw/intc/ioapic.c ioapic_set_irq) and KVM (ioapic.c
// kvm_ioapic_set_irq) do: the polarity bit of a redirection entry is stored
// and reported, the platform's polarity is stated by the MADT, and a guest
// that programs the opposite polarity does not get a stuck interrupt.
// Edge-triggered devices pulse: set_level(true) then set_level(false).
//
// None of this is thread-safe: the VMM serialises calls per VM (one lock
// for a VM's interrupt controllers), and calls the router with it held.
// All interfaces are abstract with protected non-virtual destructors (no
// delete through them, no RTTI); the VMM provides __cxa_pure_virtual.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace mamori::devices {

// (1) One interrupt wire, driven by a device.
class IrqLine {
 public:
  virtual void set_level(bool asserted) = 0;
  void raise() { set_level(true); }
  void lower() { set_level(false); }
  // An edge-triggered request (ISA style): a rising and a falling edge.
  void pulse() {
    set_level(true);
    set_level(false);
  }

 protected:
  ~IrqLine() = default;
};

// (2) A controller with numbered input pins.
class IrqChip {
 public:
  virtual uint32_t pin_count() const = 0;
  // Pins >= pin_count() are ignored.
  virtual void set_irq(uint32_t pin, bool asserted) = 0;

 protected:
  ~IrqChip() = default;
};

// One pin of a chip as a line.
class ChipPin final : public IrqLine {
 public:
  ChipPin() = default;
  ChipPin(IrqChip& chip, uint32_t pin) : chip_(&chip), pin_(pin) {}
  void set_level(bool asserted) override {
    if (chip_ != nullptr) chip_->set_irq(pin_, asserted);
  }

 private:
  IrqChip* chip_ = nullptr;
  uint32_t pin_ = 0;
};

// One device output wired to up to kMaxLines inputs (PIC and IOAPIC).
class IrqFanout final : public IrqLine {
 public:
  static constexpr size_t kMaxLines = 4;
  // False when full.
  bool add(IrqLine& line) {
    if (count_ == kMaxLines) return false;
    lines_[count_++] = &line;
    return true;
  }
  void set_level(bool asserted) override {
    for (size_t i = 0; i < count_; ++i) lines_[i]->set_level(asserted);
  }

 private:
  IrqLine* lines_[kMaxLines] = {};
  size_t count_ = 0;
};

// (3) APIC interrupt messages. Encodings are the hardware ones: the ICR's
// and the redirection entry's fields (SDM Vol. 3A §11.6.1, 82093AA §3.2.4).
enum class DeliveryMode : uint8_t {
  Fixed = 0,
  LowestPriority = 1,
  Smi = 2,
  Reserved3 = 3,
  Nmi = 4,
  Init = 5,
  Startup = 6,  // ICR only (SIPI)
  ExtInt = 7,   // IOAPIC only (ICR: reserved)
};

enum class DestinationMode : uint8_t { Physical = 0, Logical = 1 };
enum class TriggerMode : uint8_t { Edge = 0, Level = 1 };

// ICR bits 19:18 (SDM Vol. 3A §11.6.1). IOAPIC messages use None.
enum class Shorthand : uint8_t { None = 0, Self = 1, AllIncludingSelf = 2, AllExcludingSelf = 3 };

// xAPIC broadcast destinations (8-bit format) and the x2APIC one (32-bit).
inline constexpr uint32_t kXapicBroadcast = 0xFF;
inline constexpr uint32_t kX2apicBroadcast = 0xFFFFFFFF;

struct InterruptMessage {
  uint8_t vector = 0;
  DeliveryMode delivery = DeliveryMode::Fixed;
  DestinationMode dest_mode = DestinationMode::Physical;
  TriggerMode trigger = TriggerMode::Edge;
  // ICR bit 14 (Level): 0 only for the obsolete INIT level de-assert.
  bool assert_level = true;
  Shorthand shorthand = Shorthand::None;
  // Destination: 8-bit xAPIC format (IOAPIC, xAPIC ICR bits 63:56) unless
  // `x2apic_format` (x2APIC ICR bits 63:32, SDM §11.12.9).
  uint32_t destination = 0;
  bool x2apic_format = false;
  // Sender, for shorthands: index of the sending LAPIC in the VM
  // (vCPU index), or kFromIoapic.
  uint32_t source = kFromIoapic;
  static constexpr uint32_t kFromIoapic = 0xFFFFFFFF;
};

// Returns whether some LAPIC accepted the message. The IOAPIC sets Remote
// IRR only then (as KVM's ioapic_service): a level interrupt sent to
// LAPICs that refuse it (software-disabled, no such destination) must not
// leave its pin stuck waiting for an EOI that never comes.
class InterruptRouter {
 public:
  virtual bool route(const InterruptMessage& msg) = 0;

 protected:
  ~InterruptRouter() = default;
};

// The EOI message a LAPIC broadcasts when software ends a level-triggered
// interrupt (TMR bit set) and EOI broadcast is not suppressed
// (SDM Vol. 3A §11.8.5). The IOAPIC clears Remote IRR of entries with that
// vector.
class EoiListener {
 public:
  virtual void eoi(uint8_t vector) = 0;

 protected:
  ~EoiListener() = default;
};

}  // namespace mamori::devices
