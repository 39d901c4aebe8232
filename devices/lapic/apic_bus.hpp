// The APIC bus of one VM: delivers InterruptMessages (IPIs from the LAPICs'
// ICRs, redirection-table messages from the IOAPIC) to the LAPICs they
// address, and forwards the LAPICs' EOI broadcasts to the IOAPIC.
//
// Destination selection (SDM Vol. 3A §11.6.1 destination shorthand,
// §11.6.2 physical/logical destination, §11.6.2.4 lowest priority):
//  - shorthand Self / All including self / All excluding self select by the
//    sender's index; otherwise each LAPIC's is_destination() decides;
//  - lowest priority to a non-broadcast destination goes to the one
//    matching LAPIC with the lowest arbitration priority, ties rotating
//    (SDM: "the processor with the lowest priority ... if several, ... focus
//    / arbitration ID"; the rotation stands in for the arbitration ID);
//    broadcast or shorthand lowest priority goes to all of them (as KVM).
//
// After each accepted delivery the bus calls Kicker::kick(cpu_index) so the VMM can
// wake a halted vCPU or send a host IPI to the physical CPU running it.
// Not thread-safe: called with the VM's interrupt lock held.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "devices/irq.hpp"
#include "devices/lapic/lapic.hpp"

namespace mamori::devices::lapic {

class Kicker {
 public:
  virtual void kick(uint32_t cpu_index) = 0;

 protected:
  ~Kicker() = default;
};

class ApicBus final : public InterruptRouter, public EoiListener {
 public:
  static constexpr size_t kMaxCpus = 64;

  // The LAPIC sits in slot lapic.cpu_index(); false if out of range or taken.
  bool attach(Lapic& lapic);
  void set_eoi_listener(EoiListener* listener) { eoi_listener_ = listener; }
  void set_kicker(Kicker* kicker) { kicker_ = kicker; }
  Lapic* cpu(uint32_t index) const { return index < kMaxCpus ? cpus_[index] : nullptr; }

  bool route(const InterruptMessage& msg) override;
  void eoi(uint8_t vector) override {
    if (eoi_listener_ != nullptr) eoi_listener_->eoi(vector);
  }

  uint64_t undeliverable() const { return undeliverable_; }

 private:
  bool deliver(Lapic& target, const InterruptMessage& msg);

  Lapic* cpus_[kMaxCpus] = {};
  EoiListener* eoi_listener_ = nullptr;
  Kicker* kicker_ = nullptr;
  uint32_t next_lowest_ = 0;
  uint64_t undeliverable_ = 0;  // messages that matched no LAPIC
};

}  // namespace mamori::devices::lapic
