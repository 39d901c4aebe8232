#include "virtual_platform.hpp"
#include <new>
#include "devices/acpi/guest_tables.hpp"
#include "devices/acpi/pm.hpp"
#include "devices/ioapic/ioapic.hpp"
#include "devices/lapic/apic_bus.hpp"
#include "devices/pic/pic.hpp"
#include "devices/pit/pit.hpp"
#include "devices/rtc/rtc.hpp"
#include "devices/uart16550/uart16550.hpp"
#include "drivers/lapic/lapic.hpp"
#include "drivers/rtc/cmos_clock.hpp"
#include "vmm/arch/descriptors.hpp"
#include "vmm/percpu.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/lib/spinlock.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/vm/exits.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/mmio.hpp"

namespace mamori::vm {
namespace {
namespace lapic = devices::lapic;
using devices::kNever;

// The APIC timer's rate: the "core crystal clock" CPUID leaf 0x15 states.
// 25 MHz is what Skylake-class client parts report (SDM 2 CPUID 15H note);
// never above the TSC so that a slow (emulated) TSC keeps a sane ratio.
constexpr uint64_t kApicTimerHz = 25'000'000;
// Periodic LAPIC timers shorter than this many microseconds are clamped
// (KVM's min_timer_period_us): a guest must not buy itself an exit storm.
constexpr uint64_t kMinTimerPeriodUs = 200;

// PC platform ports outside the device models (Intel ICH9 datasheet §13.7.5
// reset control; 8042 command port; POST and delay ports).
constexpr uint16_t kResetControl = 0xCF9;
constexpr uint8_t kResetCpu = 1u << 2;  // RST_CPU: a 0->1 write resets (SYS_RST picks hard/soft: both are the same here)
constexpr uint16_t kKbcData = 0x60, kKbcStatus = 0x64;
constexpr uint8_t kKbcPulseReset = 0xFE;  // "pulse output line 0" (CPU reset), as Linux's reboot=k writes
constexpr uint16_t kPostPort = 0x80, kDelayPort = 0xED;

// The guest's TSC (no offset yet: the host's) as the device models' clock.
class GuestTsc final : public devices::Clock, public lapic::Clock {
 public:
  uint64_t now() const override { return cpu::rdtsc(); }
  uint64_t hz() const override { return drivers::tsc::hz(); }
};
GuestTsc g_clock;

struct VirtualPlatform;

// The 8259A pair's INT output drives the LAPIC's LINT0 (virtual wire).
struct Lint0Line final : devices::IrqLine {
  VirtualPlatform* p = nullptr;
  void set_level(bool level) override;
};
// The IOAPIC's messages go over the VM's APIC bus; a LAPIC that accepts
// one may now have an interrupt waiting.
struct WakeRouter final : devices::InterruptRouter {
  VirtualPlatform* p = nullptr;
  bool route(const devices::InterruptMessage& m) override;
};

// An interrupt accepted by a vCPU that runs on another CPU: that CPU is
// kicked out of the guest (arch kKickVector) so that the interrupt is
// injected now rather than at the vCPU's next exit (a slice or its next
// timer away). A halted vCPU needs none: its CPU polls it
// (vm/scheduler.cpp cpu_loop).
struct KickRemote final : lapic::Kicker {
  VirtualPlatform* p = nullptr;
  void kick(uint32_t cpu_index) override;
};

// COM1's transmitter: the guest's console line (prefixed, vm/exits.cpp).
struct ConsoleSink final : devices::uart16550::TxSink {
  Guest* g = nullptr;
  void put(uint8_t b) override { guest_console_put(*g, static_cast<char>(b)); }
};

// Each vCPU's LAPIC page at the same guest-physical address: every vCPU
// slot registers its own region (vm/guest_create.cpp), which reaches its
// own LAPIC.
struct LapicMmio final : MmioDevice {
  VirtualPlatform* p = nullptr;
  unsigned vcpu = 0;
  uint64_t mmio_read(uint64_t off, uint8_t size) override;
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override;
};
struct IoapicMmio final : MmioDevice {
  VirtualPlatform* p = nullptr;
  uint64_t mmio_read(uint64_t off, uint8_t size) override;
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override;
};

// The devices with deadlines, in VirtualPlatform::deadline[].
enum Timed : unsigned { kApicTimer, kPitTimer, kRtcTimer, kUartTimer, kTimedDevices };

lapic::Config lapic_config(unsigned vcpu) {
  lapic::Config c;
  c.apic_id = vcpu;  // = guest_apic_id(): CPUID and the MADT say the same
  c.cpu_index = vcpu;
  c.bsp = vcpu == 0;
  c.x2apic = true;
  c.tsc_deadline = true;
  c.tsc_hz = guest_tsc_hz();
  c.timer_hz = guest_apic_timer_hz();
  c.min_period_ticks = c.tsc_hz / 1'000'000 * kMinTimerPeriodUs;
  c.max_phys_addr = static_cast<uint8_t>(cpu::cpuid(0x80000008).eax & 0xFF);
  return c;
}

// The ISA IRQ n reaches the 8259A's input n and the IOAPIC pin the MADT
// names for it (devices/acpi/guest_tables.cpp: IRQ 0 -> GSI 2, the rest
// identity), as on every PC with an IOAPIC.
constexpr uint32_t gsi_of_isa_irq(unsigned irq) { return irq == 0 ? 2 : irq; }

struct VirtualPlatform {
  explicit VirtualPlatform(Guest& g, uint64_t epoch)
      : guest(g),
        ioapic(router),
        pic(&lint0),
        pit(g_clock, &isa[0]),
        rtc(g_clock, &isa[devices::rtc::kIrq], epoch),
        uart(g_clock, &isa[devices::uart16550::kCom1Irq], &sink) {
    vcpus = g.vcpu_count;
    for (unsigned i = 0; i < vcpus; ++i) {
      cpu_guest[i] = &guest_table()[g.vcpu_slot[i]];
      auto* a = new (apic_storage[i]) lapic::Lapic(lapic_config(i), g_clock, bus, &bus);
      bus.attach(*a);
      apic_mmio[i].p = this;
      apic_mmio[i].vcpu = i;
    }
    bus.set_eoi_listener(&ioapic);  // level EOIs clear the IOAPIC's Remote IRR
    kicker.p = this;
    if (vcpus > 1) bus.set_kicker(&kicker);
    lint0.p = this;
    router.p = this;
    sink.g = &g;
    for (unsigned irq = 0; irq < 16; ++irq) {
      ioapic_pin[irq] = devices::ChipPin(ioapic, gsi_of_isa_irq(irq));
      isa[irq].add(pic.line(static_cast<uint8_t>(irq)));
      isa[irq].add(ioapic_pin[irq]);
    }
    ioapic_mmio.p = this;
    rtc.set_memory_size(g.low_ram, g.high_ram);  // the two RAM ranges around the MMIO hole (guest_boot/layout.hpp)
  }

  lapic::Lapic& apic(unsigned vcpu) { return *reinterpret_cast<lapic::Lapic*>(apic_storage[vcpu]); }

  // What the exit path asks on every entry is kept up to date after each
  // device access instead of recomputed per entry (the fast path pays two
  // loads): each vCPU's earliest deadline and whether an interrupt waits
  // for it. An IPI or an IOAPIC message may change another vCPU's: all
  // are refreshed.
  void refresh_waiting() {
    for (unsigned i = 0; i < vcpus; ++i) {
      lapic::Lapic& a = apic(i);
      cpu_guest[i]->irq_waiting = a.interrupt_waiting() || a.nmi_waiting();
    }
  }
  // Only the deadline: whether an interrupt waits changes only through
  // the LAPICs (Lint0Line, WakeRouter, their MMIO/MSRs, tick, acknowledge).
  // The shared devices' deadlines are vCPU 0's to serve; each LAPIC
  // timer is its own vCPU's.
  void refresh(Timed d, unsigned vcpu = 0) {
    switch (d) {
      case kApicTimer: apic_deadline[vcpu] = apic(vcpu).next_deadline(); break;
      case kPitTimer: deadline[d] = pit.next_event(); break;
      case kRtcTimer: deadline[d] = rtc.next_event(); break;
      case kUartTimer: deadline[d] = uart.next_event(); break;
      case kTimedDevices: break;
    }
    next = apic_deadline[0];
    for (unsigned i = kPitTimer; i < kTimedDevices; ++i)
      if (deadline[i] < next) next = deadline[i];
    guest.device_deadline = next;
    if (vcpu != 0) cpu_guest[vcpu]->device_deadline = apic_deadline[vcpu];
  }
  void refresh_all() {
    for (unsigned i = 1; i < vcpus; ++i) refresh(kApicTimer, i);
    for (unsigned i = 0; i < kTimedDevices; ++i) refresh(static_cast<Timed>(i));
    refresh_waiting();
  }

  // One lock for the whole platform (the models are not thread-safe, and
  // an IPI or an IOAPIC message crosses vCPUs): every entry point below
  // takes it; the TPM window has its own (vm/vtpm_attach.cpp), so that a
  // vCPU waiting for its LAPIC never waits for a TPM command.
  lib::Spinlock lock;
  Guest& guest;  // vCPU 0
  unsigned vcpus = 1;
  Guest* cpu_guest[kMaxVcpus] = {};
  // The LAPICs first after the header: their register pages are page-aligned.
  alignas(lapic::Lapic) uint8_t apic_storage[kMaxVcpus][sizeof(lapic::Lapic)];
  lapic::ApicBus bus;
  WakeRouter router;
  KickRemote kicker;
  devices::ioapic::Ioapic ioapic;
  Lint0Line lint0;
  devices::pic::PicPair pic;
  devices::ChipPin ioapic_pin[16];
  devices::IrqFanout isa[16];
  devices::pit::Pit pit;
  devices::rtc::Rtc rtc;
  ConsoleSink sink;
  devices::uart16550::Uart16550 uart;
  devices::acpi::PmDevice pm;
  LapicMmio apic_mmio[kMaxVcpus];
  IoapicMmio ioapic_mmio;
  uint8_t reset_control = 0;
  uint64_t deadline[kTimedDevices] = {};      // the shared devices' (kApicTimer unused: apic_deadline)
  uint64_t apic_deadline[kMaxVcpus] = {};
  uint64_t next = 0;   // vCPU 0's earliest deadline (guest TSC)
};

void KickRemote::kick(uint32_t cpu_index) {
  if (cpu_index >= p->vcpus) return;
  const Guest& c = *p->cpu_guest[cpu_index];
  if (c.cpu == this_cpu_index() || c.halted || c.wait_sipi || c.state != GuestState::Runnable) return;
  drivers::lapic::send_fixed(g_cpus[c.cpu].apic_id, arch::kKickVector);
}

void Lint0Line::set_level(bool level) {
  if (!p) return;  // during construction, before the platform wired it
  p->apic(0).set_lint(0, level);  // the 8259A is wired to the BSP's LINT0
  p->refresh_waiting();
}
bool WakeRouter::route(const devices::InterruptMessage& m) {
  if (!p) return false;
  bool accepted = p->bus.route(m);
  p->refresh_waiting();
  return accepted;
}

uint64_t LapicMmio::mmio_read(uint64_t off, uint8_t size) {
  lib::LockGuard l(p->lock);
  return p->apic(vcpu).mmio_read(off, size);
}
void LapicMmio::mmio_write(uint64_t off, uint8_t size, uint64_t v) {
  lib::LockGuard l(p->lock);
  p->apic(vcpu).mmio_write(off, size, v);
  p->refresh(kApicTimer, vcpu);  // a timer armed
  p->refresh_waiting();          // an EOI, a TPR change, an IPI
}
uint64_t IoapicMmio::mmio_read(uint64_t off, uint8_t size) {
  lib::LockGuard l(p->lock);
  return p->ioapic.mmio_read(off, size);
}
void IoapicMmio::mmio_write(uint64_t off, uint8_t size, uint64_t v) {
  lib::LockGuard l(p->lock);
  p->ioapic.mmio_write(off, size, v);  // an unmasked pin delivers through WakeRouter
}

alignas(VirtualPlatform) uint8_t g_storage[kMaxGuests][sizeof(VirtualPlatform)];

// Every vCPU slot of a guest points at its one platform.
VirtualPlatform& P(Guest& g) { return *static_cast<VirtualPlatform*>(g.platform); }

// The state firmware leaves for the OS: LINT0/LINT1 in virtual-wire mode
// (SeaBIOS and OVMF do it, MP spec 1.4 §3.6.2.2), the 8259A pair
// initialised at the PC BIOS vectors (0x08, 0x70) with every IRQ masked
// (an uninitialised pair would pass the PIT's first edge on to LINT0),
// and COM1 at 115200 baud,
// 8 data bits, no parity, one stop bit (the 16550's own reset value, LCR = 0,
// means 5-bit words: a guest that never programs the UART would print
// garbage).
void firmware_init(VirtualPlatform& p) {
  using namespace devices::uart16550;
  p.apic(0).setup_virtual_wire();  // the BSP's; APs are set up by the OS that starts them
  using devices::pic::kMasterCmd, devices::pic::kMasterData, devices::pic::kSlaveCmd, devices::pic::kSlaveData;
  constexpr uint8_t kIcw1 = 0x11, kIcw4_8086 = 0x01, kMaskAll = 0xFF;  // ICW1: edge, cascade, ICW4 follows
  const uint32_t init[][2] = {{kMasterCmd, kIcw1}, {kMasterData, 0x08}, {kMasterData, 1u << devices::pic::kCascadeIr},
                              {kMasterData, kIcw4_8086}, {kSlaveCmd, kIcw1}, {kSlaveData, 0x70},
                              {kSlaveData, devices::pic::kCascadeIr}, {kSlaveData, kIcw4_8086},
                              {kMasterData, kMaskAll}, {kSlaveData, kMaskAll}};
  for (const auto& w : init) p.pic.write(static_cast<uint16_t>(w[0]), 1, w[1]);
  p.uart.write(kCom1 + reg::kLcr, 1, lcr::kDlab | 0x03);
  p.uart.write(kCom1 + reg::kRbrThr, 1, kBaudClock / 115200);  // divisor 1
  p.uart.write(kCom1 + reg::kIer, 1, 0);
  p.uart.write(kCom1 + reg::kLcr, 1, 0x03);
  p.pm.reset(guest_tsc_hz(), g_clock.now());
}

// The guest's ACPI tables (devices/acpi/guest_tables.hpp: RSDP, XSDT,
// FADT with the PM block, MADT, TPM2, the iasl-compiled DSDT) at the
// legacy RSDP search range 0xE0000 (ACPI 6.4 §5.2.5.1), which the e820
// and Multiboot maps leave out of RAM. Rebuilt at every platform reset, as
// firmware does.
bool write_acpi_tables(Guest& g) {
  namespace acpi = devices::acpi;
  acpi::GuestPlatform gp;
  gp.vcpus = g.vcpu_count;
  gp.tpm = !g.tpm ? acpi::TpmInterface::None : g.tpm_crb ? acpi::TpmInterface::Crb : acpi::TpmInterface::Tis;
  gp.tpm_log_gpa = g.tpm_log_bytes ? g.tpm_log_gpa : 0;  // its measured launch's log (guest_create.cpp)
  gp.tpm_log_bytes = g.tpm_log_bytes;
  if (!ram_contains(g, acpi::kDefaultTablesGpa, acpi::kTablesMaxBytes)) return false;
  auto* buf = mem::phys_to_virt<uint8_t>(ram_host(g, acpi::kDefaultTablesGpa));
  acpi::TableLayout layout;
  acpi::BuildError e = acpi::build_tables(gp, acpi::kDefaultTablesGpa, buf, acpi::kTablesMaxBytes, layout);
  if (e != acpi::BuildError::None) {
    LOG_ERROR("vm %s: its ACPI tables could not be built: %s", g.name, acpi::describe(e));
    return false;
  }
  g.acpi_rsdp = layout.rsdp_gpa;
  return true;
}

}  // namespace

uint64_t guest_tsc_hz() { return drivers::tsc::hz(); }
uint64_t guest_apic_timer_hz() {
  uint64_t tsc = guest_tsc_hz();
  return tsc && tsc < kApicTimerHz ? tsc : kApicTimerHz;
}
uint32_t guest_apic_id(const Guest& g) { return g.vcpu; }

bool create_platform(Guest& g) {
  static uint64_t epoch = drivers::cmos_clock::read_epoch_seconds();  // read once, on the BSP
  auto* p = new (g_storage[g.id]) VirtualPlatform(g, epoch);
  g.platform = p;
  for (unsigned i = 1; i < g.vcpu_count; ++i) guest_table()[g.vcpu_slot[i]].platform = p;
  firmware_init(*p);
  p->refresh_all();
  if (!write_acpi_tables(g)) return false;
  namespace acpi = devices::acpi;
  for (unsigned i = 0; i < g.vcpu_count; ++i) {
    Guest& c = guest_table()[g.vcpu_slot[i]];
    if (!add_mmio_region(c, acpi::kLapicGpa, 0x1000, p->apic_mmio[i], "LAPIC") ||
        !add_mmio_region(c, acpi::kIoApicGpa, devices::ioapic::kMmioSize, p->ioapic_mmio, "IOAPIC")) {
      LOG_ERROR("vm %s: its LAPIC/IOAPIC pages could not be registered", g.name);
      return false;
    }
  }
  return true;
}

void reset_platform(Guest& g) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  for (unsigned i = 0; i < p.vcpus; ++i) p.apic(i).reset();  // APs wait for SIPI again
  p.ioapic.reset();
  p.pic.reset();
  p.pit.reset();
  p.rtc.reset();  // the time and the CMOS NVRAM go on
  p.uart.reset();
  p.reset_control = 0;
  firmware_init(p);
  write_acpi_tables(g);  // built once already: the same inputs cannot fail now
  p.refresh_all();
}

PortResult platform_io(Guest& g, uint16_t port, unsigned size, bool in, uint32_t& value) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  PortResult r;
  r.claimed = true;
  const uint8_t sz = static_cast<uint8_t>(size);
  if (p.uart.handles(port)) {  // the busiest: first
    if (in) value = p.uart.read(port, sz);
    else p.uart.write(port, sz, value);
    p.refresh(kUartTimer);
  } else if (devices::pic::PicPair::handles(port)) {
    if (in) value = p.pic.read(port, sz);
    else p.pic.write(port, sz, value);  // its INT reaches LINT0 through Lint0Line
  } else if (devices::pit::Pit::handles(port)) {
    if (in) value = p.pit.read(port, sz);
    else p.pit.write(port, sz, value);
    p.refresh(kPitTimer);
  } else if (devices::rtc::Rtc::handles(port)) {
    if (in) value = p.rtc.read(port, sz);
    else p.rtc.write(port, sz, value);
    p.refresh(kRtcTimer);
  } else if (devices::acpi::PmDevice::claims(port)) {
    if (in) {
      value = p.pm.read(port, size, g_clock.now());
    } else {
      devices::acpi::PmAction a = p.pm.write(port, size, value);
      if (a == devices::acpi::PmAction::PowerOff) {
        r.action = PlatformAction::PowerOff;
        r.what = "ACPI soft-off (PM1a control SLP_TYP S5, SLP_EN)";
      } else if (a == devices::acpi::PmAction::Sleep) {
        LOG_INFO("vm %s: ACPI sleep state requested: not supported, ignored (the DSDT offers S5 only)", g.name);
      }
    }
  } else if (port == kResetControl && size == 1) {
    if (in) {
      value = p.reset_control;
    } else {
      uint8_t v = static_cast<uint8_t>(value);
      if ((v & kResetCpu) && !(p.reset_control & kResetCpu)) {
        r.action = PlatformAction::Reset;
        r.what = "reset control register (0xCF9, RST_CPU)";
      }
      p.reset_control = v & ~kResetCpu;
    }
  } else if (port == kKbcStatus || port == kKbcData) {
    // No keyboard controller: reads float (0xFF), which Linux's i8042
    // probe takes as "none"; only the reset command is honoured.
    if (in) value = 0xFFFFFFFFu;
    else if (port == kKbcStatus && static_cast<uint8_t>(value) == kKbcPulseReset) {
      r.action = PlatformAction::Reset;
      r.what = "keyboard controller reset (0x64, 0xFE)";
    }
  } else if (port == kPostPort || port == kDelayPort) {
    if (in) value = 0xFFFFFFFFu;  // POST codes and I/O delay: nothing there, and nothing logged
  } else {
    r.claimed = false;
  }
  return r;
}

lapic::MsrStatus platform_read_msr(Guest& g, uint32_t msr, uint64_t& value) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  return p.apic(g.vcpu).read_msr(msr, value);
}
lapic::MsrStatus platform_write_msr(Guest& g, uint32_t msr, uint64_t value) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  lapic::MsrStatus s = p.apic(g.vcpu).write_msr(msr, value);
  if (s != lapic::MsrStatus::NotMine) {
    p.refresh(kApicTimer, g.vcpu);
    p.refresh_waiting();
  }
  return s;
}

void platform_write_cr8(Guest& g, uint8_t value) {
  // CR8[3:0] = TPR[7:4] (SDM 3A §10.8.6.1); the TPR's low nibble reads 0.
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  p.apic(g.vcpu).mmio_write(lapic::reg::kTpr, 4, static_cast<uint32_t>(value & 0xF) << 4);
  p.refresh_waiting();  // PPR follows the TPR
}
uint8_t platform_read_cr8(Guest& g) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  return static_cast<uint8_t>(p.apic(g.vcpu).tpr() >> 4);
}

void platform_update(Guest& g, uint64_t now) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  if (is_ap(g)) {  // an AP serves its own LAPIC timer only
    p.apic(g.vcpu).tick(now);
    p.refresh(kApicTimer, g.vcpu);
    p.refresh_waiting();
    return;
  }
  // Console input typed at `vm console` (the BSP fills the ring).
  while (g.input_head != g.input_tail && p.uart.rx_space() > 0) {
    p.uart.push_input(static_cast<uint8_t>(g.input[g.input_head % Guest::kInputSize]));
    g.input_head = g.input_head + 1;
    p.refresh(kUartTimer);
  }
  if (now < p.next) return;
  p.pit.update();
  p.rtc.update();
  p.uart.update();
  p.apic(0).tick(now);
  for (unsigned i = kPitTimer; i < kTimedDevices; ++i) p.refresh(static_cast<Timed>(i));
  p.refresh(kApicTimer, 0);
  p.refresh_waiting();
}

bool platform_take_start(Guest& g, uint8_t& vector) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  lapic::Lapic& a = p.apic(g.vcpu);
  if (a.take_init()) g.wait_sipi = true;  // INIT: back to wait-for-SIPI (SDM 3A §9.4.2), whatever it ran
  if (!g.wait_sipi) return false;
  return a.take_sipi(vector);
}

bool platform_interrupt_waiting(Guest& g) { return g.irq_waiting; }

void platform_info(Guest& g) {
  if (!g.platform) return;
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  console::printf("  platform: PIC INT %s; next deadline %s\n", p.pic.pending() ? "high" : "low",
                  p.next == kNever ? "none" : "armed");
  for (unsigned i = 0; i < p.vcpus; ++i) {
    lapic::Lapic& a = p.apic(i);
    const Guest& c = *p.cpu_guest[i];
    console::printf("  vcpu%u on cpu%u: %s; LAPIC %s, TPR 0x%x, highest IRR %d ISR %d, LVT timer 0x%x; "
                    "interrupt waiting: %s; %lu exits\n",
                    i, c.cpu, c.wait_sipi ? "waiting for SIPI" : c.halted ? "in HLT" : state_name(c.state),
                    a.mode() == lapic::Mode::X2Apic ? "x2APIC" : a.hw_enabled() ? "xAPIC" : "disabled", a.tpr(),
                    a.highest_irr(), a.highest_isr(), a.lvt(lapic::Lvt::Timer), c.irq_waiting ? "yes" : "no", c.exits);
  }
}

lapic::PendingEvent platform_take_event(Guest& g, const lapic::Interruptibility& st, uint8_t& vector) {
  VirtualPlatform& p = P(g);
  lib::LockGuard l(p.lock);
  lapic::Lapic& a = p.apic(g.vcpu);
  const lapic::PendingEvent ev = a.highest_pending_injectable(st);
  vector = 0;
  switch (ev.kind) {
    case lapic::EventKind::Nmi: a.acknowledge_nmi(); vector = 2; break;
    case lapic::EventKind::ExtInt:
      vector = p.pic.acknowledge();  // the INTA cycle
      a.acknowledge_extint();
      break;
    case lapic::EventKind::Fixed: a.acknowledge(ev.vector); vector = ev.vector; break;
    case lapic::EventKind::None: return ev;
  }
  p.refresh_waiting();
  return ev;
}

}  // namespace mamori::vm
