// libFuzzer target: a guest (or a hostile one) driving two virtual LAPICs
// and an IOAPIC through every interface the VMM exposes: xAPIC MMIO of any
// offset/size, RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and the
// x2APIC range, IPIs, incoming messages, LINT pins, timer ticks, injection
// and INIT/SIPI. Invariants checked after every step:
//  - no crash, no UB (ASan/UBSan), every MSR outcome is Ok/Gp/NotMine;
//  - IRR/ISR never hold vectors 0-15; ISR holds at most one vector per
//    priority class (the processor only takes a class above PPR);
//  - PPR = TPR if TPR[7:4] >= ISRV[7:4] else ISRV[7:4]:0, so PPR >= TPR;
//  - highest_pending_injectable() offers only an IRR vector whose class beats PPR, and
//    acknowledge() moves exactly that bit from IRR to ISR;
//  - the mode matches IA32_APIC_BASE (EN, EXTD), never EN=0 EXTD=1; in
//    x2APIC mode LDR is the one derived from the ID;
//  - the timer's current count never exceeds its initial count, and
//    tick(now) always moves the next deadline past `now`.
#include <stdint.h>
#include <stdlib.h>

#include "devices/ioapic/ioapic.hpp"
#include "devices/lapic/apic_bus.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"
#include "tests/fuzz/support/fuzz_input.hpp"

using namespace mamori::devices;
using namespace mamori::devices::lapic;

namespace {

using Input = mamori::fuzz::FuzzInput;

struct Tsc final : Clock {
  uint64_t t = 0;
  uint64_t now() const override { return t; }
};

void check(const Lapic& a) {
  for (unsigned w = 0; w < 8; ++w) {
    if (w == 0) {
      FUZZ_ASSERT((a.reg(reg::kIrr) & 0xFFFF) == 0);
      FUZZ_ASSERT((a.reg(reg::kIsr) & 0xFFFF) == 0);
    }
  }
  for (unsigned cls = 0; cls < 16; ++cls) {
    const uint32_t w = a.reg(reg::kIsr + 0x10 * (cls / 2));
    const uint32_t bits = (w >> ((cls % 2) * 16)) & 0xFFFF;
    FUZZ_ASSERT((bits & (bits - 1)) == 0);  // at most one per class
  }
  const int isrv = a.highest_isr();
  const uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) & 0xF0;
  const uint32_t tpr = a.tpr();
  FUZZ_ASSERT(a.ppr() == ((tpr & 0xF0) >= isr_class ? tpr : isr_class));
  FUZZ_ASSERT((a.ppr() & 0xF0) >= (tpr & 0xF0));
  const uint64_t b = a.apic_base();
  const bool en = b & base::kEnable, extd = b & base::kExtd;
  FUZZ_ASSERT(!(extd && !en));
  FUZZ_ASSERT(a.mode() == (!en ? Mode::Disabled : extd ? Mode::X2Apic : Mode::XApic));
  if (a.mode() == Mode::X2Apic) {
    const uint32_t id = a.reg(reg::kId);
    FUZZ_ASSERT(a.reg(reg::kLdr) == (((id >> 4) << 16) | (1u << (id & 0xF))));
  }
  FUZZ_ASSERT(a.timer_current_count() <= a.reg(reg::kTimerInitial));
  FUZZ_ASSERT((a.reg(reg::kEsr) & ~0xFFu) == 0);
}

constexpr uint32_t kMsrs[] = {msr::kApicBase, msr::kTscDeadline, 0x10, 0x800, 0x802, 0x803, 0x808, 0x809,
                              0x80A, 0x80B, 0x80D, 0x80E, 0x80F, 0x810, 0x817, 0x820, 0x828, 0x82F, 0x830,
                              0x831, 0x832, 0x835, 0x836, 0x837, 0x838, 0x839, 0x83E, 0x83F, 0x8FF};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  Tsc tsc;
  ApicBus bus;
  ioapic::Ioapic io(bus);
  Config c0, c1;
  c1.apic_id = c1.cpu_index = 1;
  c1.bsp = false;
  const uint8_t flags = in.u8();
  c0.suppress_eoi_broadcast = c1.suppress_eoi_broadcast = flags & 1;
  c0.tsc_deadline = c1.tsc_deadline = !(flags & 2);
  c0.x2apic = c1.x2apic = !(flags & 4);
  c0.min_period_ticks = c1.min_period_ticks = (flags & 8) ? 0 : 1000;
  c0.timer_hz = c1.timer_hz = 1 + in.u32();
  c0.tsc_hz = c1.tsc_hz = 1 + in.u64();
  Lapic* cpus[2];
  Lapic a0(c0, tsc, bus, &bus), a1(c1, tsc, bus, &bus);
  cpus[0] = &a0, cpus[1] = &a1;
  FUZZ_ASSERT(bus.attach(a0) && bus.attach(a1));
  bus.set_eoi_listener(&io);
  // Most runs start where an OS would be: APICs software-enabled.
  if (!(flags & 16))
    for (Lapic* l : cpus) l->mmio_write(reg::kSvr, 4, svr::kEnable | 0xFF);

  while (in.n) {
    const uint8_t op = in.u8();
    Lapic& a = *cpus[op & 1];
    switch ((op >> 1) % 12) {
      case 0: {  // MMIO read, any offset/size
        const uint64_t off = in.u32() & 0x1FFF;
        (void)a.mmio_read(off, in.u8() % 10);
        break;
      }
      case 1:
      case 2: {  // MMIO write: mostly aligned registers
        const uint32_t off = (in.u8() & 1) ? (in.u8() << 4) & 0xFF0 : in.u32() & 0x1FFF;
        const uint8_t sz = (in.u8() & 3) ? 4 : in.u8() % 10;
        a.mmio_write(off, sz, in.u64());
        break;
      }
      case 3: {
        uint64_t v = 0;
        const uint32_t m = kMsrs[in.u8() % (sizeof(kMsrs) / sizeof(kMsrs[0]))];
        const MsrStatus st = a.read_msr(m, v);
        FUZZ_ASSERT(st == MsrStatus::Ok || st == MsrStatus::Gp || st == MsrStatus::NotMine);
        break;
      }
      case 4:
      case 5: {
        const uint32_t m = kMsrs[in.u8() % (sizeof(kMsrs) / sizeof(kMsrs[0]))];
        uint64_t v = in.u64();
        if (m == msr::kApicBase && (in.u8() & 1)) v = (v & 0xC00) | kDefaultBase | (v & base::kBsp);
        const MsrStatus st = a.write_msr(m, v);
        FUZZ_ASSERT(st == MsrStatus::Ok || st == MsrStatus::Gp || st == MsrStatus::NotMine);
        break;
      }
      case 6: {  // a message from outside (another CPU, the IOAPIC)
        InterruptMessage m;
        m.vector = in.u8();
        m.delivery = static_cast<DeliveryMode>(in.u8() & 7);
        const uint8_t b = in.u8();
        m.dest_mode = (b & 1) ? DestinationMode::Logical : DestinationMode::Physical;
        m.trigger = (b & 2) ? TriggerMode::Level : TriggerMode::Edge;
        m.assert_level = b & 4;
        m.shorthand = static_cast<Shorthand>((b >> 3) & 3);
        m.x2apic_format = b & 32;
        m.destination = (b & 64) ? in.u32() : (b & 128) ? in.u8() : in.u8() & 1;
        m.source = in.u8() % 3;
        bus.route(m);
        break;
      }
      case 7: {
        const uint8_t b = in.u8();
        a.set_lint(b & 3, b & 4);
        if (b & 8) io.set_irq(in.u8() % 26, b & 16);
        if (b & 32) a.raise_lvt(static_cast<Lvt>(in.u8() % kLvtCount));
        break;
      }
      case 8: {  // time passes, the VMM ticks
        tsc.t += in.u32() >> (in.u8() % 32);
        for (Lapic* l : cpus) {
          l->tick(tsc.t);
          const uint64_t d = l->next_deadline();
          FUZZ_ASSERT(d == kNever || d > tsc.t);
        }
        break;
      }
      case 9: {  // injection
        Interruptibility st;
        const uint8_t b = in.u8();
        st.rflags_if = b & 1;
        st.blocked_by_sti = b & 2;
        st.blocked_by_mov_ss = b & 4;
        st.blocked_by_nmi = b & 8;
        const PendingEvent e = a.highest_pending_injectable(st);
        if (e.kind == EventKind::Fixed) {
          FUZZ_ASSERT(st.rflags_if && a.irr(e.vector) && (e.vector >> 4) > (a.ppr() >> 4));
          FUZZ_ASSERT(a.acknowledge(e.vector));
          FUZZ_ASSERT(a.isr(e.vector) && !a.irr(e.vector));
        } else if (e.kind == EventKind::Nmi) {
          a.acknowledge_nmi();
        } else if (e.kind == EventKind::ExtInt) {
          a.acknowledge_extint();
        } else if (b & 16) {
          // The VMM acknowledges only what it injected; a stray vector is
          // refused unless it is the one that is deliverable (IF aside).
          const bool waiting = a.interrupt_waiting();
          const uint8_t v = in.u8();
          const bool taken = a.acknowledge(v);
          FUZZ_ASSERT(!taken || (waiting && a.isr(v) && !a.irr(v)));
        }
        break;
      }
      case 10: {
        uint8_t v;
        (void)a.take_init();
        (void)a.take_sipi(v);
        if (in.u8() & 1) a.set_waiting_for_sipi(true);
        break;
      }
      case 11: {  // the IOAPIC's register window
        const uint8_t b = in.u8();
        if (b & 1)
          io.mmio_write(b & 2 ? 0x10 : 0x00, 4, in.u32());
        else
          (void)io.mmio_read(b & 2 ? 0x10 : 0x00, 4);
        if (b & 4) io.eoi(in.u8());
        break;
      }
    }
    check(a0);
    check(a1);
  }
  return 0;
}
