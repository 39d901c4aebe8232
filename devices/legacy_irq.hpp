// An interrupt request line from a legacy PC device model (PIT channel 0,
// RTC, 16550) to whatever the VMM connects it to. On a PC the ISA IRQ n
// goes to the 8259A pair's IRn input and, through the MADT's interrupt
// source overrides, to an IOAPIC GSI; the VMM's adapter drives both.
//
// Semantics: `level` is the device's output as it would appear on the ISA
// bus (true = request asserted). Edge-triggered consumers (the 8259A in
// edge mode, an IOAPIC pin programmed edge) see a request on false→true.
// Models call set() only when their output changes; a pulse (the PIT's
// OUT0 in mode 2, coalesced lost periods) is set(false) then set(true).
#pragma once

namespace mamori::devices {

struct IrqLine {
  virtual void set(bool level) = 0;

 protected:
  ~IrqLine() = default;  // never deleted through this interface
};

}  // namespace mamori::devices
