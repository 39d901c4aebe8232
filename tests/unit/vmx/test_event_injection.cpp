// Event injection decisions (§27.3.1.4, §27.3.1.5) and their agreement with
// the VM-entry checker; the preemption-timer value (App. A.6).
#include <catch.hpp>
#include <random>

#include "fixtures.hpp"
#include "vmx/event_injection.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;
using T = InterruptionInfo::Type;

TEST_CASE("injection decisions") {
  GuestEventState g;
  const auto irq = InterruptionInfo::make(0x20, T::external_interrupt, false);
  const auto nmi = InterruptionInfo::make(2, T::nmi, false);
  const auto gp = InterruptionInfo::make(13, T::hardware_exception, true);
  const auto mc = InterruptionInfo::make(18, T::hardware_exception, false);
  CHECK(can_inject(g, irq) == InjectVerdict::wait_interrupt_window);  // IF = 0
  g.rflags = 0x202;
  CHECK(can_inject(g, irq) == InjectVerdict::now);
  g.interruptibility = 1;  // STI shadow
  CHECK(can_inject(g, irq) == InjectVerdict::wait_interrupt_window);
  CHECK(can_inject(g, gp) == InjectVerdict::now);
  g.interruptibility = 2;  // MOV SS
  CHECK(can_inject(g, nmi) == InjectVerdict::wait_interrupt_window);
  g.virtual_nmis = true;
  CHECK(can_inject(g, nmi) == InjectVerdict::wait_nmi_window);
  g.interruptibility = 8;  // virtual-NMI blocking
  CHECK(can_inject(g, nmi) == InjectVerdict::wait_nmi_window);
  g.interruptibility = 0;
  CHECK(can_inject(g, nmi) == InjectVerdict::now);
  g.activity = 3;
  CHECK(can_inject(g, irq) == InjectVerdict::never);
  g.activity = 2;
  CHECK(can_inject(g, irq) == InjectVerdict::never);
  CHECK(can_inject(g, mc) == InjectVerdict::now);
  CHECK(activity_after_injection(1) == 0);
  CHECK(activity_after_injection(0) == 0);
}

TEST_CASE("preemption timer value from TSC ticks") {
  const VmxCapabilities bochs = decode(raw_from(kBochsSkylakeX));  // shift 0
  const VmxCapabilities coffee = decode(raw_from(kCoffeeLake));    // shift 7
  CHECK(preemption_timer_value(bochs, 1000000) == 1000000);
  CHECK(preemption_timer_value(coffee, 1280) == 10);
  CHECK(preemption_timer_value(bochs, 1ull << 40) == 0xFFFFFFFFu);
}

TEST_CASE("whenever can_inject says now, the checker accepts the entry") {
  const Machine m = machine(kBochsSkylakeX);
  std::mt19937 rng(7);
  const InterruptionInfo events[] = {
      InterruptionInfo::make(0x30, T::external_interrupt, false), InterruptionInfo::make(2, T::nmi, false),
      InterruptionInfo::make(13, T::hardware_exception, true), InterruptionInfo::make(18, T::hardware_exception, false),
      InterruptionInfo::make(1, T::hardware_exception, false)};
  int injected = 0;
  for (int i = 0; i < 2000; ++i) {
    GuestEventState g;
    g.rflags = (rng() & 1) ? 0x202 : 0x2;
    const uint32_t blk[] = {0, 1, 2, 8, 9};
    g.interruptibility = blk[rng() % 5];
    if ((g.interruptibility & 1) && !(g.rflags & 0x200)) g.interruptibility &= ~1u;  // STI needs IF
    g.activity = rng() % 4;
    if ((g.interruptibility & 3) && g.activity) g.activity = 0;  // blocking needs active state
    g.virtual_nmis = true;  // mamori's controls on this CPU
    const InterruptionInfo ev = events[rng() % 5];
    if (can_inject(g, ev) != InjectVerdict::now) continue;
    ++injected;
    VmcsImage v = good_image(m, GuestKind::long_mode);
    v.set(VmcsField::guest_rflags, g.rflags);
    v.set(VmcsField::guest_interruptibility_state, g.interruptibility);
    v.set(VmcsField::guest_activity_state, activity_after_injection(g.activity));
    v.set(VmcsField::entry_interruption_info, ev.raw);
    EntryCheckReport r;
    check_vm_entry(v, m.ctx, r);
    INFO("rflags " << g.rflags << " intr " << g.interruptibility << " act " << g.activity << " ev " << ev.raw);
    REQUIRE(r.ok());
  }
  CHECK(injected > 500);
}
