#include "vmm/vm/guest_log.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"

namespace mamori::vm {
namespace {
constexpr uint32_t kLogBurst = 20;
constexpr uint32_t kLogLinesPerSecond = 2;
}  // namespace

lib::TokenBucket g_log_bucket[kMaxGuests];

bool guest_may_log(Guest& g) {
  lib::TokenBucket& b = g_log_bucket[g.id % kMaxGuests];
  uint64_t hz = drivers::tsc::hz();
  if (!b.take(cpu::rdtsc(), hz / kLogLinesPerSecond, kLogBurst)) return false;
  if (uint64_t n = b.take_suppressed())
    LOG_WARN("vm %s: %lu log lines suppressed (at most %u a second after a burst of %u)", g.name, n,
             kLogLinesPerSecond, kLogBurst);
  return true;
}

}  // namespace mamori::vm
