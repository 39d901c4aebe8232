// Log lines a guest can cause (a refused MSR, a port with no device, a VMX
// instruction) pass a token bucket per guest: a guest looping on a logged
// exit must not keep the VMM printing at serial speed (docs/security.md,
// "Guest -> host: exit storms"). What is refused is summed up in the next
// line that passes, and when the guest stops (stop_guest).
#pragma once
#include "vmm/lib/rate_limit.hpp"
#include "vmm/log.hpp"
#include "vmm/vm/guest.hpp"

namespace mamori::vm {

extern lib::TokenBucket g_log_bucket[kMaxGuests];

bool guest_may_log(Guest& g);

}  // namespace mamori::vm

#define GUEST_LOG(g, ...)                                    \
  do {                                                       \
    if (::mamori::vm::guest_may_log(g)) LOG_INFO(__VA_ARGS__); \
  } while (0)
