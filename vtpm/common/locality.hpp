// Locality arbitration shared by the TIS FIFO and the CRB interface.
//
// PTP (TCG PC Client Platform TPM Profile, Family 2.0) defines
// five localities; at most one is active at a time. Rules implemented here
// (TPM_ACCESS_x for FIFO, TPM_LOC_CTRL_x / TPM_LOC_STS_x for CRB):
//  - request: granted at once when no locality is active, otherwise it stays
//    pending; an active locality requesting again changes nothing;
//  - relinquish by the active locality frees the TPM and grants the
//    highest-numbered pending request; relinquish by a locality that is only
//    requesting withdraws its request;
//  - seize by a locality higher than the active one takes the TPM at once
//    and marks the previous owner beenSeized; a seize by a lower or equal
//    locality is ignored.
#pragma once

#include <stdint.h>

namespace mamori::vtpm {

inline constexpr uint8_t kNumLocalities = 5;
inline constexpr uint8_t kNoLocality = 0xFF;

struct LocalityChange {
  bool changed = false;
  uint8_t previous = kNoLocality;
  uint8_t current = kNoLocality;
};

class LocalityArbiter {
 public:
  uint8_t active() const { return active_; }
  bool is_active(uint8_t l) const { return l < kNumLocalities && active_ == l; }
  bool requesting(uint8_t l) const { return l < kNumLocalities && (requests_ & bit(l)) != 0; }
  // pendingRequest as seen from locality l: another locality waits.
  bool other_requesting(uint8_t l) const {
    return (requests_ & static_cast<uint8_t>(~bit(l)) & kAllMask) != 0;
  }
  bool been_seized(uint8_t l) const { return l < kNumLocalities && (seized_ & bit(l)) != 0; }

  LocalityChange request(uint8_t l) {
    if (l >= kNumLocalities || active_ == l) return {};
    if (active_ == kNoLocality) return make_active(l);
    requests_ |= bit(l);
    return {};
  }

  LocalityChange relinquish(uint8_t l) {
    if (l >= kNumLocalities) return {};
    if (active_ != l) {
      requests_ &= static_cast<uint8_t>(~bit(l));
      return {};
    }
    const uint8_t prev = active_;
    active_ = kNoLocality;
    for (int c = kNumLocalities - 1; c >= 0; --c) {
      if (requests_ & bit(static_cast<uint8_t>(c))) {
        LocalityChange ch = make_active(static_cast<uint8_t>(c));
        ch.previous = prev;
        return ch;
      }
    }
    return {true, prev, kNoLocality};
  }

  LocalityChange seize(uint8_t l) {
    if (l >= kNumLocalities) return {};
    if (active_ != kNoLocality && l <= active_) return {};
    const uint8_t prev = active_;
    if (prev != kNoLocality) seized_ |= bit(prev);
    LocalityChange ch = make_active(l);
    ch.previous = prev;
    return ch;
  }

  void clear_seized(uint8_t l) {
    if (l < kNumLocalities) seized_ &= static_cast<uint8_t>(~bit(l));
  }

  void reset() { *this = LocalityArbiter{}; }

 private:
  static constexpr uint8_t kAllMask = (1u << kNumLocalities) - 1;
  static constexpr uint8_t bit(uint8_t l) { return static_cast<uint8_t>(1u << l); }

  LocalityChange make_active(uint8_t l) {
    const uint8_t prev = active_;
    active_ = l;
    requests_ &= static_cast<uint8_t>(~bit(l));
    return {true, prev, l};
  }

  uint8_t active_ = kNoLocality;
  uint8_t requests_ = 0;  // bit l: locality l has requestUse pending
  uint8_t seized_ = 0;    // bit l: locality l lost the TPM to a seize
};

}  // namespace mamori::vtpm
