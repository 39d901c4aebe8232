// A token bucket for log lines a guest can cause (docs/security.md, "Guest
// -> host: exit storms"): up to `burst` lines at once, then one per
// `period` ticks; what it refuses is counted so that a summary ("N lines
// suppressed") can be printed with the next line let through. Pure: the
// caller passes the time (TSC ticks).
#pragma once
#include <stdint.h>

namespace mamori::lib {

class TokenBucket {
 public:
  // True if an event at `now` may pass (and takes a token).
  bool take(uint64_t now, uint64_t period, uint32_t burst) {
    if (!started_) {
      started_ = true;
      tokens_ = burst;
      last_ = now;
    }
    if (period != 0 && now > last_) {
      uint64_t add = (now - last_) / period;
      if (add >= burst) {
        tokens_ = burst;
        last_ = now;
      } else if (add != 0) {
        tokens_ = tokens_ + add > burst ? burst : static_cast<uint32_t>(tokens_ + add);
        last_ += add * period;
      }
    }
    if (tokens_ == 0) {
      ++suppressed_;
      return false;
    }
    --tokens_;
    return true;
  }
  // Events refused since the last call (and resets the count).
  uint64_t take_suppressed() {
    uint64_t n = suppressed_;
    suppressed_ = 0;
    return n;
  }
  void reset() { *this = TokenBucket{}; }

 private:
  bool started_ = false;
  uint32_t tokens_ = 0;
  uint64_t last_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace mamori::lib
