#include "devices/lapic/apic_bus.hpp"

namespace mamori::devices::lapic {

bool ApicBus::attach(Lapic& lapic) {
  const uint32_t i = lapic.cpu_index();
  if (i >= kMaxCpus || cpus_[i] != nullptr) return false;
  cpus_[i] = &lapic;
  return true;
}

bool ApicBus::deliver(Lapic& target, const InterruptMessage& msg) {
  if (!target.accept(msg)) return false;
  if (kicker_ != nullptr) kicker_->kick(target.cpu_index());
  return true;
}

bool ApicBus::route(const InterruptMessage& msg) {
  bool selected[kMaxCpus] = {};
  size_t count = 0;
  for (uint32_t i = 0; i < kMaxCpus; ++i) {
    Lapic* l = cpus_[i];
    if (l == nullptr) continue;
    bool hit = false;
    switch (msg.shorthand) {
      case Shorthand::None: hit = l->is_destination(msg); break;
      case Shorthand::Self: hit = i == msg.source; break;
      case Shorthand::AllIncludingSelf: hit = l->hw_enabled(); break;
      case Shorthand::AllExcludingSelf: hit = l->hw_enabled() && i != msg.source; break;
    }
    if (hit) selected[i] = true, ++count;
  }
  if (count == 0) {
    ++undeliverable_;
    return false;
  }
  const bool broadcast = msg.x2apic_format ? msg.destination == kX2apicBroadcast
                                           : (msg.destination & 0xFF) == kXapicBroadcast;
  if (msg.delivery == DeliveryMode::LowestPriority && msg.shorthand == Shorthand::None && !broadcast &&
      count > 1) {
    // One target: lowest arbitration priority, ties rotate from the last pick.
    uint32_t best = kMaxCpus;
    for (uint32_t k = 0; k < kMaxCpus; ++k) {
      const uint32_t i = (next_lowest_ + k) % kMaxCpus;
      if (!selected[i]) continue;
      if (best == kMaxCpus || cpus_[i]->arbitration_priority() < cpus_[best]->arbitration_priority()) best = i;
    }
    next_lowest_ = (best + 1) % kMaxCpus;
    return deliver(*cpus_[best], msg);
  }
  bool accepted = false;
  for (uint32_t i = 0; i < kMaxCpus; ++i)
    if (selected[i]) accepted |= deliver(*cpus_[i], msg);
  return accepted;
}

}  // namespace mamori::devices::lapic
