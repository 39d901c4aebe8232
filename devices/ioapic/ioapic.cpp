// Virtual 82093AA-compatible IOAPIC. Section numbers refer to the 82093AA
// datasheet (290566-001), §3 "Register Description".
#include "devices/ioapic/ioapic.hpp"

namespace mamori::devices::ioapic {

namespace {

constexpr DeliveryMode delivery_of(uint64_t e) { return static_cast<DeliveryMode>((e >> rte::kDeliveryModeShift) & 7); }

// §3.2.4: only fixed and lowest-priority interrupts are level-triggered;
// SMI, NMI, INIT and ExtINT are edge events whatever the trigger bit says.
constexpr bool level_entry(uint64_t e) {
  const DeliveryMode dm = delivery_of(e);
  return (e & rte::kLevel) && (dm == DeliveryMode::Fixed || dm == DeliveryMode::LowestPriority);
}

}  // namespace

Ioapic::Ioapic(InterruptRouter& router, const Config& config) : router_(router), config_(config) { reset(); }

void Ioapic::reset() {
  for (auto& e : redir_) e = rte::kReset;
  select_ = 0;
  id_ = config_.id & 0xF;
}

uint32_t Ioapic::read_indirect(uint8_t idx) const {
  switch (idx) {
    case index::kId:
      return uint32_t{id_} << 24;  // §3.2.1: ID in bits 27:24
    case index::kVersion:
      // §3.2.2: version in 7:0, maximum redirection entry in 23:16.
      return kVersion | ((kPins - 1) << 16);
    case index::kArbitration:
      // §3.2.3: the arbitration ID is loaded from the ID (KVM reports the
      // same; QEMU reads 0).
      return uint32_t{id_} << 24;
    default:
      break;
  }
  if (idx >= index::kRedirection && idx < index::kRedirection + 2 * kPins) {
    const uint64_t e = redir_[(idx - index::kRedirection) / 2];
    return (idx & 1) ? static_cast<uint32_t>(e >> 32) : static_cast<uint32_t>(e);
  }
  return 0;  // undefined indexes read 0 (as QEMU)
}

void Ioapic::write_indirect(uint8_t idx, uint32_t value) {
  if (idx == index::kId) {
    id_ = static_cast<uint8_t>((value >> 24) & 0xF);
    return;
  }
  if (idx < index::kRedirection || idx >= index::kRedirection + 2 * kPins) return;  // RO or absent
  const uint32_t pin = (idx - index::kRedirection) / 2;
  uint64_t& e = redir_[pin];
  const uint64_t old = e;
  uint64_t next = (idx & 1) ? (e & 0xFFFFFFFFull) | (uint64_t{value} << 32) : (e & ~0xFFFFFFFFull) | value;
  next = (next & rte::kWritable) | (old & rte::kRemoteIrr);
  // Remote IRR only has a meaning for level entries; an entry switched to
  // edge loses it (KVM does the same, so a stuck bit can be cleared).
  if (!level_entry(next)) next &= ~rte::kRemoteIrr;
  e = next;
  // Unmasking (or re-programming) a level entry whose line is asserted
  // delivers it now; a masked edge is lost (§3.2.4 "Interrupt Mask").
  if (level_entry(e)) service_level(pin);
}

uint64_t Ioapic::mmio_read(uint64_t offset, uint8_t size) {
  ++stats_.mmio_reads;
  if (offset == kIoRegSel && (size == 1 || size == 2 || size == 4)) return select_;
  // §3.1: IOWIN is a 32-bit register; QEMU answers other widths with 0.
  if (offset == kIoWin && size == 4) return read_indirect(select_);
  ++stats_.mmio_rejected;
  return 0;
}

void Ioapic::mmio_write(uint64_t offset, uint8_t size, uint64_t value) {
  ++stats_.mmio_writes;
  if (offset == kIoRegSel && (size == 1 || size == 2 || size == 4)) {
    select_ = static_cast<uint8_t>(value);  // §3.1.1: bits 7:0, 31:8 reserved
    return;
  }
  if (offset == kIoWin && size == 4) {
    write_indirect(select_, static_cast<uint32_t>(value));
    return;
  }
  ++stats_.mmio_rejected;
}

bool Ioapic::deliver(uint32_t pin) {
  const uint64_t e = redir_[pin];
  InterruptMessage m;
  m.vector = static_cast<uint8_t>(e & rte::kVector);
  m.delivery = delivery_of(e);
  m.dest_mode = (e & rte::kDestLogical) ? DestinationMode::Logical : DestinationMode::Physical;
  m.trigger = level_entry(e) ? TriggerMode::Level : TriggerMode::Edge;
  m.destination = static_cast<uint32_t>(e >> rte::kDestShift);
  m.x2apic_format = false;
  m.source = InterruptMessage::kFromIoapic;
  ++stats_.delivered;
  return router_.route(m);
}

void Ioapic::service_level(uint32_t pin) {
  uint64_t& e = redir_[pin];
  if (!line(pin) || (e & rte::kMasked) || (e & rte::kRemoteIrr)) return;
  // §3.2.4 Remote IRR: set when the LAPIC accepts the level interrupt,
  // cleared by the EOI message with a matching vector. Not accepted: no
  // Remote IRR, the next assertion or unmask tries again (as KVM).
  if (deliver(pin)) e |= rte::kRemoteIrr;
}

void Ioapic::set_irq(uint32_t pin, bool asserted) {
  if (pin >= kPins) return;
  const bool was = line(pin);
  if (asserted)
    lines_ |= 1u << pin;
  else
    lines_ &= ~(1u << pin);
  const uint64_t e = redir_[pin];
  if (level_entry(e)) {
    service_level(pin);
    return;
  }
  // Edge: one message per rising edge while unmasked.
  if (asserted && !was && !(e & rte::kMasked)) (void)deliver(pin);
}

void Ioapic::eoi(uint8_t vector) {
  for (uint32_t pin = 0; pin < kPins; ++pin) {
    uint64_t& e = redir_[pin];
    if (!(e & rte::kRemoteIrr) || (e & rte::kVector) != vector) continue;
    e &= ~rte::kRemoteIrr;
    ++stats_.eois;
    // Still asserted: the device wants service again (re-delivery).
    service_level(pin);
  }
}

}  // namespace mamori::devices::ioapic
