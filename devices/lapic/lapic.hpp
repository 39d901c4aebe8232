// One virtual local APIC (one per vCPU): xAPIC MMIO page, x2APIC MSRs,
// IA32_APIC_BASE, IA32_TSC_DEADLINE, timer, IPIs, and the interrupt state a
// VMM needs to inject (SDM Vol. 3A ch. 11).
//
// Register state lives in a 4 KiB array laid out like the xAPIC page, which
// is also the layout of the VMX virtual-APIC page (SDM Vol. 3C §29.1): TPR
// at 0x80, PPR at 0xA0, ISR/TMR/IRR as eight 32-bit words at a 16-byte
// stride from 0x100/0x180/0x200, ... A later TPR-shadow / APIC-register
// virtualization path can point the VMCS at `virtual_apic_page()`.
//
// How the VMM wires it (one lock per VM around all calls):
//   EPT violation in [mmio_base(), +4 KiB) -> mmio_read/mmio_write(offset, size)
//   RDMSR/WRMSR 0x1B, 0x6E0, 0x800-0x8FF   -> read_msr/write_msr; MsrStatus::Gp
//                                             means inject #GP(0), NotMine
//                                             means "not a LAPIC MSR"
//   ICR writes / self IPIs                 -> InterruptRouter::route(msg)
//                                             (ApicBus, or the VMM's router);
//                                             the router calls accept() on
//                                             each destination LAPIC
//   EOI of a level-triggered vector        -> EoiListener::eoi(vector)
//   PIC INTR output / NMI button           -> set_lint(0|1, level)
//   timer                                  -> arm a host timer for
//                                             next_deadline(), call tick(now)
//   before VM entry                        -> highest_pending_injectable(interruptibility):
//                                             inject it, then acknowledge*()
//   INIT / SIPI                            -> take_init(), take_sipi(vector)
//
// Time is the guest's TSC (the `Clock` the VMM passes in); the APIC timer
// runs at `Config::timer_hz` (the core crystal clock that CPUID leaf 0x15
// reports, which Linux uses as lapic_timer_period without calibrating).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "devices/irq.hpp"
#include "devices/lapic/lapic_regs.hpp"

namespace mamori::devices::lapic {

// The guest's time stamp counter (TSC ticks at Config::tsc_hz).
class Clock {
 public:
  virtual uint64_t now() const = 0;

 protected:
  ~Clock() = default;
};

inline constexpr uint64_t kNever = ~uint64_t{0};

struct Config {
  // Initial APIC ID: the x2APIC ID (CPUID.0BH:EDX); its low 8 bits are the
  // xAPIC ID (CPUID.01H:EBX[31:24]) (SDM §11.4.6, §11.12.5.1).
  uint32_t apic_id = 0;
  // Index of this LAPIC's vCPU in the VM: InterruptMessage::source of its IPIs.
  uint32_t cpu_index = 0;
  // IA32_APIC_BASE.BSP after RESET.
  bool bsp = true;
  // CPUID.01H:ECX[21]: IA32_APIC_BASE.EXTD may be set.
  bool x2apic = true;
  // CPUID.01H:ECX[24]: timer mode 10b and IA32_TSC_DEADLINE exist.
  bool tsc_deadline = true;
  // Version bit 24 / SVR bit 12 (SDM §11.8.5). Off by default: the
  // 82093AA-compatible IOAPIC (version 0x11) has no EOI register, so a
  // guest that suppressed the broadcast could never end a level interrupt
  // (KVM hides the bit with its in-kernel IOAPIC for the same reason).
  bool suppress_eoi_broadcast = false;
  // Guest TSC rate and APIC timer base rate, in Hz.
  uint64_t tsc_hz = 2'000'000'000;
  uint64_t timer_hz = 25'000'000;
  // Shortest period a periodic timer may have, in TSC ticks (0 = none). A
  // guest could otherwise ask for an interrupt every 40 ns and keep its
  // vCPU in exits; KVM clamps to 200 us (min_timer_period_us) likewise.
  uint64_t min_period_ticks = 400'000;  // 200 us at the default tsc_hz
  // CPUID.80000008H:EAX[7:0]: IA32_APIC_BASE bits above it are reserved.
  uint8_t max_phys_addr = 39;
};

enum class Mode : uint8_t { Disabled, XApic, X2Apic };

enum class MsrStatus : uint8_t {
  Ok,
  Gp,       // the VMM injects #GP(0)
  NotMine,  // not IA32_APIC_BASE, IA32_TSC_DEADLINE or 0x800-0x8FF
};

// What the VMM knows about the vCPU's ability to take an event now
// (guest RFLAGS.IF and the VMCS guest interruptibility state, SDM Vol. 3C
// §24.4.2 Table 24-3).
struct Interruptibility {
  bool rflags_if = false;
  bool blocked_by_sti = false;
  bool blocked_by_mov_ss = false;
  bool blocked_by_nmi = false;  // an NMI handler is running
};

enum class EventKind : uint8_t {
  None,
  Nmi,     // inject NMI (vector 2), then acknowledge_nmi()
  ExtInt,  // ask the 8259A for the vector (INTA), inject it, acknowledge_extint()
  Fixed,   // inject `vector`, then acknowledge(vector)
};

struct PendingEvent {
  EventKind kind = EventKind::None;
  uint8_t vector = 0;
};

struct LapicStats {
  uint64_t mmio_reads = 0;
  uint64_t mmio_writes = 0;
  uint64_t mmio_rejected = 0;  // bad size/alignment: read 0, write dropped
  uint64_t msr_gp = 0;         // MSR accesses answered with #GP
  uint64_t ipis_sent = 0;
  uint64_t timer_fired = 0;
  uint64_t dropped = 0;        // messages refused (disabled APIC, illegal vector, SMI)
};

class alignas(kPageSize) Lapic {
 public:
  Lapic(const Config& config, const Clock& clock, InterruptRouter& router, EoiListener* eoi);
  Lapic(const Lapic&) = delete;
  Lapic& operator=(const Lapic&) = delete;

  // RESET: xAPIC mode at 0xFEE00000, registers at their power-up values
  // (SDM §11.4.7.1, §11.12.5.1), APs waiting for SIPI.
  void reset();
  // What a PC firmware leaves behind (MP spec "virtual wire mode A"):
  // software-enabled, LINT0 ExtINT, LINT1 NMI. For guests booted without
  // firmware that expect it (Linux sets it up itself).
  void setup_virtual_wire();

  // xAPIC MMIO, `offset` inside the 4 KiB page. Aligned 32-bit accesses at
  // the start of a 16-byte slot are the architectural ones (SDM §11.4.1);
  // reads of 1/2/4 bytes inside the first 4 bytes of a slot return those
  // bytes; anything else reads 0 and drops writes (as KVM). In x2APIC mode
  // or when disabled the page is not decoded: reads all-ones, writes dropped.
  uint64_t mmio_read(uint64_t offset, uint8_t size);
  void mmio_write(uint64_t offset, uint8_t size, uint64_t value);

  MsrStatus read_msr(uint32_t msr, uint64_t& value);
  MsrStatus write_msr(uint32_t msr, uint64_t value);

  // An interrupt message whose destination includes this LAPIC (the router
  // matched it with is_destination() or a shorthand). False when refused
  // (disabled APIC, illegal vector, SIPI outside wait-for-SIPI, SMI).
  bool accept(const InterruptMessage& msg);
  // Local interrupt pins (pin 0 = LINT0, 1 = LINT1). With the APIC disabled
  // they are the processor's INTR and NMI pins (SDM §11.4.3).
  void set_lint(unsigned pin, bool level);
  // Locally generated LVT interrupts (thermal, perf counter overflow, CMCI).
  void raise_lvt(Lvt which);

  // Timer: the guest-TSC time at which tick() must be called next, or
  // kNever. tick() fires what is due at `now`; calling it early is harmless.
  uint64_t next_deadline() const;
  void tick(uint64_t now);

  // The event to inject now, given the vCPU's interruptibility: an NMI
  // before ExtINT before the highest fixed IRR vector whose priority class
  // is above PPR[7:4] (SDM §11.8.3, §6.9 priorities).
  PendingEvent highest_pending_injectable(const Interruptibility& st) const;
  // A maskable interrupt waits for RFLAGS.IF / the end of an interrupt
  // shadow: the VMM requests an interrupt window.
  bool interrupt_waiting() const;
  bool nmi_waiting() const { return nmi_pending_; }
  // The processor took `vector` (IRR -> ISR, SDM §11.8.4). False, and
  // nothing changes, unless it is the vector highest_pending_injectable() offers.
  bool acknowledge(uint8_t vector);
  void acknowledge_nmi() { nmi_pending_ = false; }
  void acknowledge_extint() { extint_latched_ = false; }

  // INIT: true once per received INIT; performs the INIT of the APIC state
  // (SDM §11.4.7.3: all registers reset except the ID; the mode is kept,
  // §11.12.5.1). The vCPU then waits for SIPI unless it is the BSP, which
  // restarts at the reset vector.
  bool take_init();
  // SIPI received while waiting for one: its vector (start at vector << 12).
  bool take_sipi(uint8_t& vector);
  bool waiting_for_sipi() const { return wait_for_sipi_; }
  void set_waiting_for_sipi(bool w) { wait_for_sipi_ = w; }

  // Routing helpers. Destination match of a message without shorthand
  // (SDM §11.6.2): physical ID or broadcast, flat/cluster logical (xAPIC),
  // cluster logical (x2APIC, §11.12.10).
  bool is_destination(const InterruptMessage& msg) const;
  // Arbitration priority for lowest-priority delivery (SDM §11.6.2.4).
  uint8_t arbitration_priority() const;

  // Observers.
  Mode mode() const { return mode_; }
  uint64_t apic_base() const { return apic_base_; }
  uint64_t mmio_base() const { return apic_base_ & base_address_mask(); }
  bool hw_enabled() const { return mode_ != Mode::Disabled; }
  bool sw_enabled() const { return (reg(reg::kSvr) & svr::kEnable) != 0; }
  uint32_t id() const;  // the xAPIC ID (8 bits) or the x2APIC ID
  uint32_t cpu_index() const { return config_.cpu_index; }
  uint8_t tpr() const { return static_cast<uint8_t>(reg(reg::kTpr)); }
  uint8_t ppr() const { return static_cast<uint8_t>(reg(reg::kPpr)); }
  int highest_irr() const { return highest(reg::kIrr); }  // -1 if empty
  int highest_isr() const { return highest(reg::kIsr); }
  bool irr(uint8_t v) const { return test(reg::kIrr, v); }
  bool isr(uint8_t v) const { return test(reg::kIsr, v); }
  bool tmr(uint8_t v) const { return test(reg::kTmr, v); }
  uint32_t lvt(Lvt which) const { return reg(lvt_offset(which)); }
  uint32_t timer_current_count() const;
  uint64_t tsc_deadline() const { return tsc_deadline_; }
  uint32_t pending_errors() const { return esr_pending_; }
  const LapicStats& stats() const { return stats_; }
  // The register page (virtual-APIC page layout). The timer's current count
  // is computed on read and not kept in the page.
  const uint32_t* virtual_apic_page() const { return regs_; }
  uint32_t reg(uint32_t offset) const { return regs_[(offset & (kPageSize - 1)) >> 2]; }

 private:
  uint32_t& reg_ref(uint32_t offset) { return regs_[(offset & (kPageSize - 1)) >> 2]; }
  uint64_t base_address_mask() const;
  int highest(uint32_t base) const;
  bool test(uint32_t base, uint8_t v) const;
  void set_bit(uint32_t base, uint8_t v, bool on);

  void reset_registers();  // power-up values, ID untouched
  MsrStatus write_apic_base(uint64_t value);
  void set_mode(Mode m);

  uint32_t read_register(uint32_t offset) const;  // 0 for write-only/reserved
  // Shared write path; x2apic: reserved bits already checked.
  void write_register(uint32_t offset, uint32_t value);
  bool x2apic_readable(uint32_t offset) const;
  // Reserved-bit mask of an x2APIC register's low 32 bits, or false when the
  // register cannot be written (SDM §11.12.1.2 Table 11-6, §11.12.1.3).
  bool x2apic_write_mask(uint32_t offset, uint32_t& writable) const;
  static bool xapic_register_exists(uint32_t offset);

  uint32_t lvt_writable(Lvt which) const;
  void write_lvt(Lvt which, uint32_t value);
  void write_svr(uint32_t value);
  void write_eoi();
  void write_esr();
  void send_icr(uint32_t low, uint32_t dest);
  void self_ipi(uint8_t vector);
  void update_ppr();
  void signal_error(uint32_t esr_bit);
  void deliver_lvt(Lvt which);
  void set_irr(uint8_t vector, bool level);
  void evaluate_lint(unsigned pin);
  bool extint_waiting() const;
  int deliverable_vector() const;  // highest IRR above PPR's class, or -1

  // Timer (SDM §11.5.4).
  uint32_t timer_mode() const { return reg(reg::kLvtTimer) & lvt::kTimerMode; }
  uint64_t elapsed_counts(uint64_t now) const;
  uint64_t counts_to_ticks(uint64_t counts) const;
  void start_timer(uint64_t now, uint32_t count);
  void stop_timer();
  void rebase_timer(uint64_t now);  // divide change: keep the current count
  void fire_timer();

  // The page first: alignas(4096) on the class puts it at offset 0.
  uint32_t regs_[kPageSize / 4] = {};

  Config config_;
  const Clock& clock_;
  InterruptRouter& router_;
  EoiListener* eoi_;
  Mode mode_ = Mode::XApic;
  uint64_t apic_base_ = 0;
  uint32_t esr_pending_ = 0;  // errors since the last ESR write (§11.5.3)
  // Timer: counting from timer_base_count_ at timer_base_ (guest TSC).
  bool timer_running_ = false;
  uint32_t timer_base_count_ = 0;
  uint64_t timer_base_ = 0;
  uint64_t timer_deadline_ = kNever;
  uint64_t tsc_deadline_ = 0;
  // Events outside IRR/ISR.
  bool nmi_pending_ = false;
  bool extint_latched_ = false;  // ExtINT message (IOAPIC virtual wire B)
  bool init_pending_ = false;
  bool sipi_pending_ = false;
  uint8_t sipi_vector_ = 0;
  bool wait_for_sipi_ = false;
  bool lint_level_[2] = {};
  LapicStats stats_;
};

}  // namespace mamori::devices::lapic
