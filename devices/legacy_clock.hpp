// The time base the VMM passes to the legacy device models (PIT, RTC,
// 16550): a monotonic counter `now()` in ticks of `hz()` (nanoseconds with
// hz = 1e9, or the guest's TSC with its rate). Models compute their state
// from elapsed time when the guest looks (no per-tick work) and tell the
// VMM through next_event() the clock value at which they must be updated
// to raise an interrupt; kNever means no timer is needed.
#pragma once

#include <stdint.h>

namespace mamori::devices {

class Clock {
 public:
  virtual uint64_t now() const = 0;
  virtual uint64_t hz() const = 0;  // > 0, at most ~1.5e13 (see muldiv)

 protected:
  ~Clock() = default;
};

inline constexpr uint64_t kNever = UINT64_MAX;

// floor(a * mul / div) without 128-bit division (no libgcc in the VMM):
// a = q*div + r, so a*mul/div = q*mul + r*mul/div exactly. r*mul fits in
// 64 bits while mul*div < 2^64 (1.193182e6 * 1.5e13 ~ 1.8e19), true for
// every rate the models use. Saturates instead of wrapping.
constexpr uint64_t muldiv(uint64_t a, uint64_t mul, uint64_t div) {
  const uint64_t q = a / div, r = a % div;
  if (mul != 0 && q > (UINT64_MAX - (r * mul / div)) / mul) return UINT64_MAX;
  return q * mul + r * mul / div;
}

// ceil(a * mul / div), same conditions.
constexpr uint64_t muldiv_ceil(uint64_t a, uint64_t mul, uint64_t div) {
  const uint64_t q = a / div, r = a % div;
  const uint64_t rem = r * mul;
  const uint64_t frac = rem / div + (rem % div != 0 ? 1 : 0);
  if (mul != 0 && q > (UINT64_MAX - frac) / mul) return UINT64_MAX;
  return q * mul + frac;
}

}  // namespace mamori::devices
