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

TEST_CASE("an event interrupted by a VM exit is re-injected with its error code and, if software, its length") {
  using T = InterruptionInfo::Type;
  // #PF (hardware exception with an error code) whose delivery hit an EPT violation.
  InterruptionInfo pf{InterruptionInfo::make(14, T::hardware_exception, true).raw | (1u << 12)};
  Reinjection r = reinjection_of(pf, 0x6, 3);
  CHECK(r.info.raw == InterruptionInfo::make(14, T::hardware_exception, true).raw);  // bit 12 cleared
  CHECK(r.info.reserved_bits() == 0);
  CHECK(r.has_error_code);
  CHECK(r.error_code == 0x6);
  CHECK_FALSE(r.has_instruction_length);
  // INT 0x80 (software interrupt): the length of the INT instruction.
  r = reinjection_of(InterruptionInfo::make(0x80, T::software_interrupt, false), 0xDEAD, 2);
  CHECK_FALSE(r.has_error_code);
  CHECK(r.error_code == 0);
  CHECK(r.has_instruction_length);
  CHECK(r.instruction_length == 2);
  // INT3 (software exception), INT1 (privileged software exception).
  CHECK(reinjection_of(InterruptionInfo::make(3, T::software_exception, false), 0, 1).has_instruction_length);
  CHECK(reinjection_of(InterruptionInfo::make(1, T::privileged_software_exception, false), 0, 1).has_instruction_length);
  // NMI and external interrupts: as they were, no length.
  r = reinjection_of(InterruptionInfo::make(2, T::nmi, false), 0, 5);
  CHECK(r.info.valid());
  CHECK(r.info.type() == T::nmi);
  CHECK_FALSE(r.has_instruction_length);
  CHECK_FALSE(reinjection_of(InterruptionInfo::make(0x30, T::external_interrupt, false), 0, 5).has_instruction_length);
}
