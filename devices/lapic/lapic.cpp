// Virtual local APIC. Section numbers are those of the SDM Vol. 3A chapter
// "Advanced Programmable Interrupt Controller (APIC)" (ch. 11 in editions
// where it is ch. 10 the numbers shift by one).
#include "devices/lapic/lapic.hpp"

#include <stddef.h>
#include <stdint.h>

namespace mamori::devices::lapic {

namespace {

__extension__ typedef unsigned __int128 u128;

constexpr uint64_t saturate(u128 v) { return v > ~uint64_t{0} ? ~uint64_t{0} : static_cast<uint64_t>(v); }
constexpr uint64_t add_sat(uint64_t a, uint64_t b) { return a + b < a ? ~uint64_t{0} : a + b; }

constexpr uint32_t kIdXapicShift = 24;

// x2APIC logical ID derived from the x2APIC ID (SDM §11.12.10.2):
// cluster = ID[19:4] in LDR[31:16], one bit 1 << ID[3:0] in LDR[15:0].
constexpr uint32_t x2apic_ldr(uint32_t id) { return ((id >> 4) << 16) | (1u << (id & 0xF)); }

constexpr DeliveryMode delivery_of(uint32_t v) { return static_cast<DeliveryMode>((v >> 8) & 7); }

}  // namespace

Lapic::Lapic(const Config& config, const Clock& clock, InterruptRouter& router, EoiListener* eoi)
    : config_(config), clock_(clock), router_(router), eoi_(eoi) {
  if (config_.tsc_hz == 0) config_.tsc_hz = 1;
  if (config_.timer_hz == 0) config_.timer_hz = 1;
  if (config_.max_phys_addr < 32 || config_.max_phys_addr > 52) config_.max_phys_addr = 52;
  reset();
}

// ---------------------------------------------------------------------------
// Reset, INIT, modes

void Lapic::reset() {
  apic_base_ = kDefaultBase | base::kEnable | (config_.bsp ? base::kBsp : 0);
  mode_ = Mode::XApic;
  // §11.12.5.1: after RESET the ID register holds the 8-bit xAPIC ID in
  // bits 31:24 (the low 8 bits of the x2APIC ID).
  reg_ref(reg::kId) = (config_.apic_id & 0xFF) << kIdXapicShift;
  reset_registers();
  nmi_pending_ = extint_latched_ = init_pending_ = sipi_pending_ = false;
  sipi_vector_ = 0;
  // Application processors wait for SIPI after RESET (SDM Vol. 3A §9.4.2).
  wait_for_sipi_ = !config_.bsp;
}

void Lapic::reset_registers() {
  // §11.4.7.1 / §11.12.5.1: IRR, ISR, TMR, ICR, LDR, TPR, timer counts and
  // divide configuration 0; LVTs masked; SVR 0xFF; DFR all ones; the ID is
  // kept (INIT preserves it, §11.4.7.3), the version is fixed.
  const uint32_t id = reg(reg::kId);
  for (auto& r : regs_) r = 0;
  reg_ref(reg::kId) = id;
  reg_ref(reg::kVersion) = version::kIntegrated | (kMaxLvtEntry << version::kMaxLvtShift) |
                           (config_.suppress_eoi_broadcast ? version::kDirectedEoi : 0);
  reg_ref(reg::kDfr) = 0xFFFFFFFF;
  reg_ref(reg::kSvr) = svr::kReset;
  for (unsigned i = 0; i < kLvtCount; ++i) reg_ref(lvt_offset(static_cast<Lvt>(i))) = lvt::kReset;
  // In x2APIC mode LDR is not writable; it always holds the derived value.
  if (mode_ == Mode::X2Apic) reg_ref(reg::kLdr) = x2apic_ldr(config_.apic_id);
  esr_pending_ = 0;
  stop_timer();
  tsc_deadline_ = 0;
}

void Lapic::setup_virtual_wire() {
  // MP spec 1.4 §3.6.2.2 virtual wire mode: the 8259A's INTR through LINT0
  // as ExtINT, NMI through LINT1; what SeaBIOS and OVMF leave behind.
  write_svr(svr::kEnable | svr::kReset);
  write_lvt(Lvt::Lint0, static_cast<uint32_t>(DeliveryMode::ExtInt) << lvt::kDeliveryModeShift);
  write_lvt(Lvt::Lint1, static_cast<uint32_t>(DeliveryMode::Nmi) << lvt::kDeliveryModeShift);
}

uint64_t Lapic::base_address_mask() const {
  // Bits 12 .. MAXPHYADDR-1 hold the base (§11.4.4 Figure 11-5).
  return ((uint64_t{1} << config_.max_phys_addr) - 1) & ~uint64_t{kPageSize - 1};
}

uint32_t Lapic::id() const {
  return mode_ == Mode::X2Apic ? reg(reg::kId) : reg(reg::kId) >> kIdXapicShift;
}

MsrStatus Lapic::write_apic_base(uint64_t value) {
  // Reserved: bits 7:0, 9, MAXPHYADDR and up, and EXTD when CPUID does not
  // report x2APIC (SDM Vol. 4 IA32_APIC_BASE; KVM's reserved_bits likewise).
  uint64_t reserved = 0x2FF | ~((uint64_t{1} << config_.max_phys_addr) - 1);
  if (!config_.x2apic) reserved |= base::kExtd;
  if (value & reserved) return MsrStatus::Gp;
  const bool en = value & base::kEnable, extd = value & base::kExtd;
  // §11.12.5.1 Figure 11-27: EN=0 EXTD=1 is invalid; x2APIC -> xAPIC and
  // disabled -> x2APIC are illegal transitions; all raise #GP.
  if (!en && extd) return MsrStatus::Gp;
  const Mode next = !en ? Mode::Disabled : extd ? Mode::X2Apic : Mode::XApic;
  if (mode_ == Mode::X2Apic && next == Mode::XApic) return MsrStatus::Gp;
  if (mode_ == Mode::Disabled && next == Mode::X2Apic) return MsrStatus::Gp;
  apic_base_ = value;
  if (next != mode_) set_mode(next);
  return MsrStatus::Ok;
}

void Lapic::set_mode(Mode next) {
  if (next == Mode::Disabled) {
    // §11.4.3: a globally disabled APIC is as if absent; state is lost
    // (§11.12.5.1: only the x2APIC ID survives x2APIC -> disabled, and the
    // legacy 8-bit ID the xAPIC ID register shows afterwards).
    const uint32_t xapic_id = mode_ == Mode::X2Apic ? (config_.apic_id & 0xFF) << kIdXapicShift : reg(reg::kId);
    mode_ = next;
    reg_ref(reg::kId) = xapic_id;
    reset_registers();
    extint_latched_ = false;
    return;
  }
  if (next == Mode::X2Apic) {
    // §11.12.5.1: xAPIC -> x2APIC keeps the x2APIC ID and initialises the
    // logical x2APIC ID; other registers keep their values (the SDM leaves
    // the extended fields undefined; software reprograms them).
    reg_ref(reg::kId) = config_.apic_id;
    reg_ref(reg::kLdr) = x2apic_ldr(config_.apic_id);
    reg_ref(reg::kIcrHigh) = 0;
  }
  // Disabled -> xAPIC: the registers were reset when it was disabled.
  mode_ = next;
}

bool Lapic::take_init() {
  if (!init_pending_) return false;
  init_pending_ = false;
  reset_registers();
  // A SIPI latched since the INIT arrived (accept) is kept: it is what
  // starts the AP. Vol. 3A §9.1 Table 9-1 / §11.4.7.3: after INIT an AP
  // waits for a SIPI; the BSP restarts at the reset vector (the VMM's business).
  nmi_pending_ = extint_latched_ = false;
  wait_for_sipi_ = (apic_base_ & base::kBsp) == 0 && !sipi_pending_;
  return true;
}

bool Lapic::take_sipi(uint8_t& vector) {
  if (!sipi_pending_) return false;
  vector = sipi_vector_;
  sipi_pending_ = false;
  wait_for_sipi_ = false;
  return true;
}

// ---------------------------------------------------------------------------
// 256-bit registers (§11.8.4 Figure 11-20): eight 32-bit words, 16 bytes apart.

int Lapic::highest(uint32_t base) const {
  for (int w = 7; w >= 0; --w) {
    const uint32_t v = reg(base + 0x10 * static_cast<uint32_t>(w));
    if (v != 0) return w * 32 + (31 - __builtin_clz(v));
  }
  return -1;
}

bool Lapic::test(uint32_t base, uint8_t v) const { return (reg(base + 0x10 * (v >> 5)) >> (v & 31)) & 1u; }

void Lapic::set_bit(uint32_t base, uint8_t v, bool on) {
  uint32_t& w = reg_ref(base + 0x10 * (v >> 5));
  if (on)
    w |= 1u << (v & 31);
  else
    w &= ~(1u << (v & 31));
}

// ---------------------------------------------------------------------------
// Priorities (§11.8.3)

void Lapic::update_ppr() {
  // §11.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0.
  const int isrv = highest_isr();
  const uint32_t tpr = reg(reg::kTpr) & 0xFF;
  const uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) & 0xF0;
  reg_ref(reg::kPpr) = (tpr & 0xF0) >= isr_class ? tpr : isr_class;
}

uint8_t Lapic::arbitration_priority() const {
  // §11.6.2.4 (Figure 11-15): APR = TPR if TPR[7:4] >= IRRV[7:4] and
  // TPR[7:4] > ISRV[7:4]; else the highest of TPR[7:4], ISRV[7:4], IRRV[7:4]
  // with the low nibble 0.
  const uint32_t tpr = reg(reg::kTpr) & 0xFF;
  const int irr = highest_irr(), isr = highest_isr();
  const uint32_t irrv = irr < 0 ? 0 : static_cast<uint32_t>(irr), isrv = isr < 0 ? 0 : static_cast<uint32_t>(isr);
  if ((tpr >> 4) >= (irrv >> 4) && (tpr >> 4) > (isrv >> 4)) return static_cast<uint8_t>(tpr);
  uint32_t m = tpr & 0xF0;
  if ((isrv & 0xF0) > m) m = isrv & 0xF0;
  if ((irrv & 0xF0) > m) m = irrv & 0xF0;
  return static_cast<uint8_t>(m);
}

int Lapic::deliverable_vector() const {
  if (mode_ == Mode::Disabled) return -1;
  // §11.8.3.1: the highest IRR vector is dispatched when its priority class
  // is above PPR[7:4]. A software-disabled APIC still holds and delivers
  // what is in IRR (§11.4.7.2).
  const int v = highest_irr();
  if (v < 0 || (static_cast<uint32_t>(v) >> 4) <= (ppr() >> 4u)) return -1;
  return v;
}

bool Lapic::extint_waiting() const {
  if (mode_ == Mode::Disabled) return lint_level_[0];  // LINT0 is INTR (§11.4.3)
  if (extint_latched_) return true;
  const uint32_t e = reg(reg::kLvtLint0);
  return lint_level_[0] && !(e & lvt::kMasked) && delivery_of(e) == DeliveryMode::ExtInt;
}

PendingEvent Lapic::highest_pending_injectable(const Interruptibility& st) const {
  // NMI is blocked by an NMI in progress and by MOV SS blocking; VM entry
  // also refuses NMI injection under STI blocking on some processors
  // (SDM Vol. 3C §26.3.1.5), so treat that as blocking too.
  if (nmi_pending_ && !st.blocked_by_nmi && !st.blocked_by_mov_ss && !st.blocked_by_sti)
    return {EventKind::Nmi, 2};
  if (!st.rflags_if || st.blocked_by_sti || st.blocked_by_mov_ss) return {};
  if (extint_waiting()) return {EventKind::ExtInt, 0};
  const int v = deliverable_vector();
  if (v >= 0) return {EventKind::Fixed, static_cast<uint8_t>(v)};
  return {};
}

bool Lapic::interrupt_waiting() const { return extint_waiting() || deliverable_vector() >= 0; }

bool Lapic::acknowledge(uint8_t vector) {
  // §11.8.4: on INTA the highest IRR bit moves to ISR and PPR follows.
  if (deliverable_vector() != vector) return false;
  set_bit(reg::kIrr, vector, false);
  set_bit(reg::kIsr, vector, true);
  update_ppr();
  return true;
}

// ---------------------------------------------------------------------------
// Destination matching (§11.6.2, §11.12.10)

bool Lapic::is_destination(const InterruptMessage& m) const {
  if (mode_ == Mode::Disabled) return false;
  if (mode_ == Mode::X2Apic) {
    // An 8-bit destination (IOAPIC, xAPIC sender) of 0xFF is a broadcast
    // for x2APIC targets too, and otherwise compares as a 32-bit one (KVM's
    // kvm_apic_mda does the same).
    const bool broadcast = m.x2apic_format ? m.destination == kX2apicBroadcast : m.destination == kXapicBroadcast;
    if (broadcast) return true;
    if (m.dest_mode == DestinationMode::Physical) return m.destination == reg(reg::kId);
    // §11.12.10.2: cluster in bits 31:16, member bitmap in 15:0.
    const uint32_t ldr = reg(reg::kLdr);
    return (m.destination >> 16) == (ldr >> 16) && (m.destination & ldr & 0xFFFF) != 0;
  }
  // xAPIC: 8-bit destinations (a 32-bit one from an x2APIC sender only
  // reaches it when it is the broadcast).
  if (m.x2apic_format && m.destination == kX2apicBroadcast) return true;
  const uint32_t dest = m.destination & 0xFF;
  if (m.x2apic_format && m.destination > 0xFF) return false;
  if (dest == kXapicBroadcast) return true;
  if (m.dest_mode == DestinationMode::Physical) return dest == (reg(reg::kId) >> kIdXapicShift);
  const uint32_t logical = reg(reg::kLdr) >> 24;
  if ((reg(reg::kDfr) >> 28) == 0xF) return (dest & logical) != 0;  // flat model (§11.6.2.2)
  // Cluster model: cluster address in bits 7:4, member bits in 3:0.
  return (dest >> 4) == (logical >> 4) && (dest & logical & 0xF) != 0;
}

// ---------------------------------------------------------------------------
// Incoming interrupts

void Lapic::set_irr(uint8_t vector, bool level) {
  set_bit(reg::kIrr, vector, true);
  // §11.8.4: TMR is set for level-triggered, cleared for edge-triggered
  // interrupts when they are accepted into IRR.
  set_bit(reg::kTmr, vector, level);
}

bool Lapic::accept(const InterruptMessage& msg) {
  if (mode_ == Mode::Disabled) {  // §11.4.3: no APIC on the bus
    ++stats_.dropped;
    return false;
  }
  switch (msg.delivery) {
    case DeliveryMode::Fixed:
    case DeliveryMode::LowestPriority:
      // A software-disabled APIC takes only NMI, SMI, INIT and SIPI
      // (§11.4.7.2); KVM's apic_accept_irq drops fixed ones likewise.
      if (!sw_enabled()) {
        ++stats_.dropped;
        return false;
      }
      if (msg.vector < kFirstLegalVector) {  // §11.5.3 Receive Illegal Vector
        ++stats_.dropped;
        signal_error(esr::kReceiveIllegalVector);
        return false;
      }
      set_irr(msg.vector, msg.trigger == TriggerMode::Level);
      return true;
    case DeliveryMode::Nmi:
      nmi_pending_ = true;
      return true;
    case DeliveryMode::Init:
      // INIT level de-assert (level-triggered, level 0) only resynchronises
      // arbitration IDs and is not supported since the Pentium 4 (§11.6.1).
      if (msg.trigger == TriggerMode::Level && !msg.assert_level) return false;
      init_pending_ = true;
      // The INIT puts an AP in wait-for-SIPI when it arrives (Vol. 3A
      // §9.4.2), not when its vCPU's CPU gets round to take_init(): the
      // STARTUPs that follow it (Linux sends INIT, 10 ms, SIPI, 200 us,
      // SIPI, while that CPU may be running another guest's 10 ms slice)
      // are latched, and a SIPI from before this INIT is void.
      sipi_pending_ = false;
      wait_for_sipi_ = (apic_base_ & base::kBsp) == 0;
      return true;
    case DeliveryMode::Startup:
      // A SIPI outside the wait-for-SIPI state is ignored (Vol. 3A §9.4.4).
      if (!wait_for_sipi_) {
        ++stats_.dropped;
        return false;
      }
      sipi_pending_ = true;
      sipi_vector_ = msg.vector;
      return true;
    case DeliveryMode::ExtInt:
      extint_latched_ = true;
      return true;
    case DeliveryMode::Smi:
    case DeliveryMode::Reserved3:
      ++stats_.dropped;  // no SMM in guests
      return false;
  }
  return false;
}

void Lapic::signal_error(uint32_t bit) {
  // §11.5.3: errors accumulate until the next ESR write; each detection
  // raises the error LVT interrupt.
  esr_pending_ |= bit;
  const uint32_t e = reg(reg::kLvtError);
  if (e & lvt::kMasked) return;
  const uint8_t v = static_cast<uint8_t>(e & lvt::kVector);
  if (v < kFirstLegalVector) {
    esr_pending_ |= esr::kReceiveIllegalVector;  // no recursion
    return;
  }
  set_irr(v, false);
}

void Lapic::deliver_lvt(Lvt which) {
  const uint32_t e = lvt(which);
  if (e & lvt::kMasked) return;
  const uint8_t v = static_cast<uint8_t>(e & lvt::kVector);
  // The timer and error entries have no delivery-mode field: always fixed.
  const DeliveryMode dm =
      (which == Lvt::Timer || which == Lvt::Error) ? DeliveryMode::Fixed : delivery_of(e);
  switch (dm) {
    case DeliveryMode::Fixed:
      if (v < kFirstLegalVector) {
        signal_error(esr::kReceiveIllegalVector);
        return;
      }
      set_irr(v, false);
      return;
    case DeliveryMode::Nmi:
      nmi_pending_ = true;
      return;
    case DeliveryMode::Init:
      init_pending_ = true;
      return;
    default:
      // SMI: no SMM. ExtINT: only through LINT0's level (extint_waiting),
      // not supported on CMCI/thermal/perf (§11.5.1).
      ++stats_.dropped;
      return;
  }
}

void Lapic::raise_lvt(Lvt which) {
  if (mode_ == Mode::Disabled || which == Lvt::Lint0 || which == Lvt::Lint1) return;
  deliver_lvt(which);
}

void Lapic::evaluate_lint(unsigned pin) {
  // Level-triggered fixed LINT input: delivered while asserted, once per
  // Remote IRR cycle (§11.5.1: Remote IRR set on acceptance, cleared by EOI).
  const Lvt which = pin == 0 ? Lvt::Lint0 : Lvt::Lint1;
  uint32_t& e = reg_ref(lvt_offset(which));
  if (!lint_level_[pin] || (e & lvt::kMasked) || !(e & lvt::kLevel) || (e & lvt::kRemoteIrr)) return;
  if (delivery_of(e) != DeliveryMode::Fixed) return;
  const uint8_t v = static_cast<uint8_t>(e & lvt::kVector);
  if (v < kFirstLegalVector) {
    signal_error(esr::kReceiveIllegalVector);
    return;
  }
  e |= lvt::kRemoteIrr;
  set_irr(v, true);
}

void Lapic::set_lint(unsigned pin, bool level) {
  if (pin > 1) return;
  const bool rising = level && !lint_level_[pin];
  lint_level_[pin] = level;
  if (mode_ == Mode::Disabled) {
    if (pin == 1 && rising) nmi_pending_ = true;  // LINT1 is the NMI pin (§11.4.3)
    return;
  }
  const Lvt which = pin == 0 ? Lvt::Lint0 : Lvt::Lint1;
  const uint32_t e = lvt(which);
  if (e & lvt::kMasked) return;
  const DeliveryMode dm = delivery_of(e);
  if (dm == DeliveryMode::ExtInt) return;  // level sampled by extint_waiting()
  // §11.5.1: NMI, SMI and INIT are edge-sensitive; fixed follows bit 15.
  if (dm == DeliveryMode::Fixed && (e & lvt::kLevel)) {
    evaluate_lint(pin);
    return;
  }
  if (rising) deliver_lvt(which);
}

// ---------------------------------------------------------------------------
// Register writes

uint32_t Lapic::lvt_writable(Lvt which) const {
  // Figure 11-8; delivery status and Remote IRR are read-only.
  constexpr uint32_t base = lvt::kVector | lvt::kMasked;
  switch (which) {
    case Lvt::Timer:
      return base | (config_.tsc_deadline ? lvt::kTimerMode : lvt::kTimerPeriodic);
    case Lvt::Error:
      return base;
    case Lvt::Lint0:
    case Lvt::Lint1:
      return base | lvt::kDeliveryMode | lvt::kPolarityLow | lvt::kLevel;
    default:  // thermal, perf, CMCI
      return base | lvt::kDeliveryMode;
  }
}

void Lapic::write_lvt(Lvt which, uint32_t value) {
  uint32_t& e = reg_ref(lvt_offset(which));
  uint32_t next = value & lvt_writable(which);
  // §11.4.7.2: while software-disabled the mask bits stay set.
  if (!sw_enabled()) next |= lvt::kMasked;
  if (which == Lvt::Lint0 || which == Lvt::Lint1) {
    next |= e & lvt::kRemoteIrr;
    // Remote IRR has no meaning for an edge-triggered input (§11.5.1).
    if (!(next & lvt::kLevel)) next &= ~lvt::kRemoteIrr;
  }
  if (which == Lvt::Timer && (next & lvt::kTimerMode) != (e & lvt::kTimerMode)) {
    // §11.5.4.1: a write that changes the timer mode disarms the timer;
    // like KVM (apic_update_lvtt) the initial count and deadline are zeroed.
    reg_ref(reg::kTimerInitial) = 0;
    stop_timer();
    tsc_deadline_ = 0;
  }
  e = next;
  if (which == Lvt::Lint0) evaluate_lint(0);
  if (which == Lvt::Lint1) evaluate_lint(1);
}

void Lapic::write_svr(uint32_t value) {
  uint32_t mask = svr::kVector | svr::kEnable | svr::kFocusDisable;
  if (config_.suppress_eoi_broadcast) mask |= svr::kSuppressEoiBroadcast;
  reg_ref(reg::kSvr) = value & mask;
  if (!(value & svr::kEnable)) {
    // §11.4.7.2: software disable sets every LVT mask bit.
    for (unsigned i = 0; i < kLvtCount; ++i) reg_ref(lvt_offset(static_cast<Lvt>(i))) |= lvt::kMasked;
  }
}

void Lapic::write_eoi() {
  // §11.8.5: EOI clears the highest ISR bit; for a level-triggered vector
  // (TMR set) the LAPIC broadcasts an EOI message to the IOAPICs unless
  // SVR bit 12 suppresses it. An EOI with ISR empty does nothing.
  const int v = highest_isr();
  if (v < 0) return;
  const uint8_t vec = static_cast<uint8_t>(v);
  set_bit(reg::kIsr, vec, false);
  update_ppr();
  if (!tmr(vec)) return;
  for (unsigned pin = 0; pin < 2; ++pin) {
    uint32_t& e = reg_ref(lvt_offset(pin == 0 ? Lvt::Lint0 : Lvt::Lint1));
    if ((e & lvt::kRemoteIrr) && (e & lvt::kVector) == vec) {
      e &= ~lvt::kRemoteIrr;
      evaluate_lint(pin);
    }
  }
  if (!(reg(reg::kSvr) & svr::kSuppressEoiBroadcast) && eoi_ != nullptr) eoi_->eoi(vec);
}

void Lapic::write_esr() {
  // §11.5.3: a write makes the errors seen since the previous write
  // readable and starts collecting anew.
  reg_ref(reg::kEsr) = esr_pending_;
  esr_pending_ = 0;
}

void Lapic::send_icr(uint32_t low, uint32_t dest) {
  InterruptMessage m;
  m.vector = static_cast<uint8_t>(low & icr::kVector);
  m.delivery = delivery_of(low);
  m.dest_mode = (low & icr::kDestLogical) ? DestinationMode::Logical : DestinationMode::Physical;
  m.trigger = (low & icr::kLevel) ? TriggerMode::Level : TriggerMode::Edge;
  m.assert_level = (low & icr::kAssert) != 0;
  m.shorthand = static_cast<Shorthand>((low >> icr::kShorthandShift) & 3);
  m.destination = dest;
  m.x2apic_format = mode_ == Mode::X2Apic;
  m.source = config_.cpu_index;
  switch (m.delivery) {
    case DeliveryMode::Fixed:
    case DeliveryMode::LowestPriority:
      if (m.vector < kFirstLegalVector) {  // §11.5.3 Send Illegal Vector
        signal_error(esr::kSendIllegalVector);
        return;
      }
      break;
    case DeliveryMode::Reserved3:
    case DeliveryMode::ExtInt:  // 111 is reserved in the ICR (§11.6.1)
      ++stats_.dropped;
      return;
    default:
      break;
  }
  // Fixed IPIs are edge-triggered messages; the trigger bit only matters
  // for INIT (§11.6.1), so a fixed "level" IPI does not set the target's
  // TMR (as KVM: an IPI never causes an EOI broadcast).
  if (m.delivery != DeliveryMode::Init) m.trigger = TriggerMode::Edge;
  ++stats_.ipis_sent;
  // Nobody accepting is not an error an xAPIC reports (ESR bits 2/3 were
  // the APIC bus's, P6 and Pentium only).
  (void)router_.route(m);
}

void Lapic::self_ipi(uint8_t vector) {
  // §11.12.11: SELF IPI = fixed, edge, self shorthand.
  ++stats_.ipis_sent;
  InterruptMessage m;
  m.vector = vector;
  m.shorthand = Shorthand::Self;
  m.x2apic_format = true;
  m.source = config_.cpu_index;
  (void)accept(m);
}

bool Lapic::xapic_register_exists(uint32_t off) {
  switch (off) {
    case reg::kId: case reg::kVersion: case reg::kTpr: case reg::kApr: case reg::kPpr:
    case reg::kEoi: case reg::kRrd: case reg::kLdr: case reg::kDfr: case reg::kSvr:
    case reg::kEsr: case reg::kLvtCmci: case reg::kIcrLow: case reg::kIcrHigh:
    case reg::kLvtTimer: case reg::kLvtThermal: case reg::kLvtPerf: case reg::kLvtLint0:
    case reg::kLvtLint1: case reg::kLvtError: case reg::kTimerInitial: case reg::kTimerCurrent:
    case reg::kTimerDivide:
      return true;
    default:
      return off >= reg::kIsr && off < reg::kEsr;  // ISR, TMR, IRR
  }
}

uint32_t Lapic::read_register(uint32_t off) const {
  switch (off) {
    case reg::kApr:
      return arbitration_priority();
    case reg::kEoi:
    case reg::kRrd:   // remote read: not supported since the Pentium 4
    case reg::kSelfIpi:
      return 0;
    case reg::kTimerCurrent:
      return timer_current_count();
    default:
      return reg(off);
  }
}

void Lapic::write_register(uint32_t off, uint32_t value) {
  const bool x2 = mode_ == Mode::X2Apic;
  switch (off) {
    case reg::kId:
      // xAPIC: the ID is writable on many processors (§11.4.6); KVM and
      // QEMU allow it. x2APIC: read-only (checked by the caller).
      if (!x2) reg_ref(reg::kId) = value & 0xFF000000;
      return;
    case reg::kTpr:
      reg_ref(reg::kTpr) = value & 0xFF;
      update_ppr();
      return;
    case reg::kEoi:
      write_eoi();
      return;
    case reg::kLdr:
      if (!x2) reg_ref(reg::kLdr) = value & 0xFF000000;  // §11.6.2.2 Figure 11-13
      return;
    case reg::kDfr:
      // §11.6.2.2 Figure 11-14: model in 31:28, bits 27:0 read as ones.
      if (!x2) reg_ref(reg::kDfr) = (value & 0xF0000000) | 0x0FFFFFFF;
      return;
    case reg::kSvr:
      write_svr(value);
      return;
    case reg::kEsr:
      write_esr();
      return;
    case reg::kLvtCmci: write_lvt(Lvt::Cmci, value); return;
    case reg::kLvtTimer: write_lvt(Lvt::Timer, value); return;
    case reg::kLvtThermal: write_lvt(Lvt::Thermal, value); return;
    case reg::kLvtPerf: write_lvt(Lvt::Perf, value); return;
    case reg::kLvtLint0: write_lvt(Lvt::Lint0, value); return;
    case reg::kLvtLint1: write_lvt(Lvt::Lint1, value); return;
    case reg::kLvtError: write_lvt(Lvt::Error, value); return;
    case reg::kIcrLow:
      // xAPIC: writing the low half sends the IPI (§11.6.1).
      reg_ref(reg::kIcrLow) = value & icr::kLowWritable;
      send_icr(value, reg(reg::kIcrHigh) >> icr::kXapicDestShift);
      return;
    case reg::kIcrHigh:
      if (!x2) reg_ref(reg::kIcrHigh) = value & 0xFF000000;
      return;
    case reg::kTimerInitial:
      // §11.5.4.1: in TSC-deadline mode writes to the initial count are ignored.
      if (timer_mode() == lvt::kTimerTscDeadline) return;
      reg_ref(reg::kTimerInitial) = value;
      start_timer(clock_.now(), value);
      return;
    case reg::kTimerDivide: {
      const uint64_t now = clock_.now();
      const uint32_t current = timer_current_count();
      reg_ref(reg::kTimerDivide) = value & divide::kWritable;
      if (timer_running_ && current != 0) {
        // The count keeps going from where it is at the new rate.
        timer_base_ = now;
        timer_base_count_ = current;
        rebase_timer(now);
      }
      return;
    }
    default:
      return;  // read-only registers: writes ignored
  }
}

// ---------------------------------------------------------------------------
// xAPIC MMIO (§11.4.1)

uint64_t Lapic::mmio_read(uint64_t offset, uint8_t size) {
  ++stats_.mmio_reads;
  if (size == 0 || size > 8) {
    ++stats_.mmio_rejected;
    return 0;
  }
  const uint64_t ones = size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
  // In x2APIC mode the MMIO interface is gone (§11.12.1.2); disabled: the
  // range is not claimed. Either way the bus floats.
  if (mode_ != Mode::XApic) return ones;
  const uint64_t in_slot = offset & 0xF;
  if (offset >= kPageSize || (size != 1 && size != 2 && size != 4) || in_slot + size > 4) {
    ++stats_.mmio_rejected;
    return 0;
  }
  const uint32_t slot = static_cast<uint32_t>(offset & ~uint64_t{0xF});
  if (!xapic_register_exists(slot)) {
    signal_error(esr::kIllegalRegister);  // §11.5.3 bit 7
    return 0;
  }
  return (read_register(slot) >> (8 * in_slot)) & ones;
}

void Lapic::mmio_write(uint64_t offset, uint8_t size, uint64_t value) {
  ++stats_.mmio_writes;
  if (mode_ != Mode::XApic) return;
  // Only aligned 32-bit stores are architectural (§11.4.1); KVM drops the
  // others the same way.
  if (offset >= kPageSize || size != 4 || (offset & 0xF) != 0) {
    ++stats_.mmio_rejected;
    return;
  }
  const uint32_t slot = static_cast<uint32_t>(offset);
  if (!xapic_register_exists(slot)) {
    signal_error(esr::kIllegalRegister);
    return;
  }
  write_register(slot, static_cast<uint32_t>(value));
}

// ---------------------------------------------------------------------------
// MSRs (§11.12.1.2 Table 11-6)

bool Lapic::x2apic_readable(uint32_t off) const {
  switch (off) {
    case reg::kApr: case reg::kRrd: case reg::kDfr: case reg::kEoi: case reg::kSelfIpi:
    case reg::kIcrHigh:
      return false;
    default:
      return xapic_register_exists(off);
  }
}

bool Lapic::x2apic_write_mask(uint32_t off, uint32_t& writable) const {
  switch (off) {
    case reg::kTpr: writable = 0xFF; return true;
    case reg::kSvr:
      writable = svr::kVector | svr::kEnable | svr::kFocusDisable |
                 (config_.suppress_eoi_broadcast ? svr::kSuppressEoiBroadcast : 0);
      return true;
    case reg::kTimerInitial: writable = 0xFFFFFFFF; return true;
    case reg::kTimerDivide: writable = divide::kWritable; return true;
    case reg::kLvtCmci: writable = lvt_writable(Lvt::Cmci) | lvt::kDeliveryStatus; return true;
    case reg::kLvtTimer: writable = lvt_writable(Lvt::Timer) | lvt::kDeliveryStatus; return true;
    case reg::kLvtThermal: writable = lvt_writable(Lvt::Thermal) | lvt::kDeliveryStatus; return true;
    case reg::kLvtPerf: writable = lvt_writable(Lvt::Perf) | lvt::kDeliveryStatus; return true;
    case reg::kLvtLint0:
    case reg::kLvtLint1:
      // Read-only status bits read back by read-modify-write are ignored.
      writable = lvt_writable(Lvt::Lint0) | lvt::kDeliveryStatus | lvt::kRemoteIrr;
      return true;
    case reg::kLvtError: writable = lvt_writable(Lvt::Error) | lvt::kDeliveryStatus; return true;
    default:
      return false;  // read-only, write-only handled by the caller, or absent
  }
}

MsrStatus Lapic::read_msr(uint32_t msr_index, uint64_t& value) {
  value = 0;
  if (msr_index == msr::kApicBase) {
    value = apic_base_;
    return MsrStatus::Ok;
  }
  if (msr_index == msr::kTscDeadline) {
    if (!config_.tsc_deadline) {
      ++stats_.msr_gp;
      return MsrStatus::Gp;
    }
    // §11.5.4.1: reads 0 outside TSC-deadline mode.
    value = timer_mode() == lvt::kTimerTscDeadline ? tsc_deadline_ : 0;
    return MsrStatus::Ok;
  }
  if (msr_index < msr::kX2apicFirst || msr_index > msr::kX2apicLast) return MsrStatus::NotMine;
  const uint32_t off = msr::offset_of(msr_index);
  // §11.12.1.2: x2APIC MSRs #GP unless in x2APIC mode; write-only and
  // absent registers #GP on RDMSR.
  if (mode_ != Mode::X2Apic || !x2apic_readable(off)) {
    ++stats_.msr_gp;
    return MsrStatus::Gp;
  }
  if (off == reg::kIcrLow) {
    value = (uint64_t{reg(reg::kIcrHigh)} << 32) | reg(reg::kIcrLow);
    return MsrStatus::Ok;
  }
  value = read_register(off);
  return MsrStatus::Ok;
}

MsrStatus Lapic::write_msr(uint32_t msr_index, uint64_t value) {
  MsrStatus st = MsrStatus::Ok;
  if (msr_index == msr::kApicBase) {
    st = write_apic_base(value);
  } else if (msr_index == msr::kTscDeadline) {
    if (!config_.tsc_deadline) {
      st = MsrStatus::Gp;
    } else if (timer_mode() == lvt::kTimerTscDeadline && mode_ != Mode::Disabled) {
      // §11.5.4.1: a write arms the timer for that TSC value; 0 disarms.
      // Outside TSC-deadline mode writes are ignored.
      tsc_deadline_ = value;
    }
  } else if (msr_index < msr::kX2apicFirst || msr_index > msr::kX2apicLast) {
    return MsrStatus::NotMine;
  } else if (mode_ != Mode::X2Apic) {
    st = MsrStatus::Gp;
  } else {
    const uint32_t off = msr::offset_of(msr_index);
    const uint32_t low = static_cast<uint32_t>(value);
    uint32_t writable = 0;
    if (off == reg::kIcrLow) {
      // §11.12.9: one 64-bit write sends; destination in bits 63:32.
      if (value & icr::kX2apicReserved) {
        st = MsrStatus::Gp;
      } else {
        reg_ref(reg::kIcrLow) = low;
        reg_ref(reg::kIcrHigh) = static_cast<uint32_t>(value >> 32);
        send_icr(low, static_cast<uint32_t>(value >> 32));
      }
    } else if (off == reg::kSelfIpi) {
      if (value & ~uint64_t{0xFF})
        st = MsrStatus::Gp;
      else
        self_ipi(static_cast<uint8_t>(value));
    } else if (off == reg::kEoi || off == reg::kEsr) {
      // §11.12.1.2: EOI and ESR writes of a non-zero value #GP.
      if (value != 0)
        st = MsrStatus::Gp;
      else
        write_register(off, 0);
    } else if ((value >> 32) != 0 || !x2apic_write_mask(off, writable) || (low & ~writable)) {
      // §11.12.1.3: non-zero writes to reserved bits #GP; read-only and
      // absent registers #GP on WRMSR.
      st = MsrStatus::Gp;
    } else {
      write_register(off, low);
    }
  }
  if (st == MsrStatus::Gp) ++stats_.msr_gp;
  return st;
}

// ---------------------------------------------------------------------------
// Timer (§11.5.4)

uint64_t Lapic::elapsed_counts(uint64_t now) const {
  if (now <= timer_base_) return 0;
  const u128 dt = now - timer_base_;
  const u128 div = u128{config_.tsc_hz} * divide::divisor(reg(reg::kTimerDivide));
  return saturate(dt * config_.timer_hz / div);
}

uint64_t Lapic::counts_to_ticks(uint64_t counts) const {
  // The first TSC tick at which `counts` timer counts have elapsed.
  const u128 num = u128{counts} * divide::divisor(reg(reg::kTimerDivide)) * config_.tsc_hz;
  return saturate((num + config_.timer_hz - 1) / config_.timer_hz);
}

void Lapic::start_timer(uint64_t now, uint32_t count) {
  if (count == 0) {  // writing 0 stops the timer (§11.5.4)
    stop_timer();
    return;
  }
  timer_running_ = true;
  timer_base_ = now;
  timer_base_count_ = count;
  rebase_timer(now);
}

void Lapic::rebase_timer(uint64_t) {
  uint64_t ticks = counts_to_ticks(timer_base_count_);
  if (timer_mode() == lvt::kTimerPeriodic && ticks < config_.min_period_ticks) ticks = config_.min_period_ticks;
  timer_deadline_ = add_sat(timer_base_, ticks);
}

void Lapic::stop_timer() {
  timer_running_ = false;
  timer_base_count_ = 0;
  timer_deadline_ = kNever;
}

uint32_t Lapic::timer_current_count() const {
  // §11.5.4: the current count counts down from the initial count; in
  // one-shot mode it stays 0, in periodic mode it reloads; in TSC-deadline
  // mode it reads 0.
  if (!timer_running_ || timer_mode() == lvt::kTimerTscDeadline) return 0;
  const uint64_t e = elapsed_counts(clock_.now());
  if (e < timer_base_count_) return static_cast<uint32_t>(timer_base_count_ - e);
  const uint32_t initial = reg(reg::kTimerInitial);
  if (timer_mode() != lvt::kTimerPeriodic || initial == 0) return 0;
  return static_cast<uint32_t>(initial - (e - timer_base_count_) % initial);
}

uint64_t Lapic::next_deadline() const {
  if (mode_ == Mode::Disabled) return kNever;
  if (timer_mode() == lvt::kTimerTscDeadline) return tsc_deadline_ != 0 ? tsc_deadline_ : kNever;
  return timer_running_ ? timer_deadline_ : kNever;
}

void Lapic::fire_timer() {
  ++stats_.timer_fired;
  deliver_lvt(Lvt::Timer);  // a masked timer counts but does not interrupt
}

void Lapic::tick(uint64_t now) {
  if (mode_ == Mode::Disabled) return;
  if (timer_mode() == lvt::kTimerTscDeadline) {
    // §11.5.4.1: the interrupt is generated when TSC >= deadline, and the
    // MSR then reads 0 (disarmed).
    if (tsc_deadline_ != 0 && now >= tsc_deadline_) {
      tsc_deadline_ = 0;
      fire_timer();
    }
    return;
  }
  if (!timer_running_ || now < timer_deadline_) return;
  fire_timer();
  const uint32_t initial = reg(reg::kTimerInitial);
  if (timer_mode() != lvt::kTimerPeriodic || initial == 0) {
    // One-shot: the count stays at 0.
    timer_running_ = false;
    timer_deadline_ = kNever;
    return;
  }
  // Periodic: reload. Expirations the VMM could not serve in time are
  // coalesced into one interrupt (an IRR bit holds one anyway); the next
  // deadline is the first reload after `now`.
  const uint64_t e = elapsed_counts(now);
  const uint64_t past = e > timer_base_count_ ? e - timer_base_count_ : 0;
  const uint64_t last_reload = timer_base_count_ + (past / initial) * initial;
  timer_base_ = add_sat(timer_base_, counts_to_ticks(last_reload));
  timer_base_count_ = initial;
  rebase_timer(now);
  if (timer_deadline_ <= now) timer_deadline_ = add_sat(now, 1);  // rounding guard
}

}  // namespace mamori::devices::lapic
