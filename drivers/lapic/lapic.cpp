#include "lapic.hpp"
#include "vmm/arch/cpu.hpp"

namespace mamori::drivers::lapic {
namespace {
// IA32_APIC_BASE bits (SDM 3A §10.4.4).
constexpr uint64_t kApicBaseEnable = 1ull << 11;
constexpr uint64_t kApicBaseX2 = 1ull << 10;
constexpr uint64_t kApicBaseAddrMask = 0x000FFFFFFFFFF000ull;
// Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset/16), §10.4.1, §10.12.1.1.
constexpr uint32_t kRegId = 0x20, kRegEoi = 0xB0, kRegSvr = 0xF0, kRegIcrLow = 0x300, kRegIcrHigh = 0x310;
constexpr uint32_t kX2MsrBase = 0x800;
constexpr uint32_t kSvrEnable = 1u << 8, kSpuriousVector = 0xFF;
// ICR fields (§10.6.1).
constexpr uint32_t kDeliveryInit = 5u << 8, kDeliveryStartup = 6u << 8, kDeliveryNmi = 4u << 8;
constexpr uint32_t kLevelAssert = 1u << 14, kDeliveryPending = 1u << 12;
constexpr uint32_t kShorthandAllButSelf = 3u << 18;

bool g_x2;
uint64_t g_base;  // identity-mapped MMIO base

uint32_t read(uint32_t reg) {
  if (g_x2) return static_cast<uint32_t>(cpu::rdmsr(kX2MsrBase + reg / 16));
  return *reinterpret_cast<volatile uint32_t*>(g_base + reg);
}
void write(uint32_t reg, uint32_t v) {
  if (g_x2) { cpu::wrmsr(kX2MsrBase + reg / 16, v); return; }
  *reinterpret_cast<volatile uint32_t*>(g_base + reg) = v;
}
void send_icr(uint32_t dest, uint32_t low) {
  if (g_x2) {  // one 64-bit write, destination in the high half (§10.12.9)
    cpu::wrmsr(kX2MsrBase + kRegIcrLow / 16, (static_cast<uint64_t>(dest) << 32) | low);
    return;
  }
  for (unsigned i = 0; i < 1000000 && ipi_pending(); ++i) cpu::pause();
  write(kRegIcrHigh, dest << 24);
  write(kRegIcrLow, low);
}
}  // namespace

void init() {
  uint64_t base = cpu::rdmsr(cpu::msr::kApicBase);
  g_x2 = (base & kApicBaseX2) != 0;
  g_base = base & kApicBaseAddrMask;
  if (!(base & kApicBaseEnable)) cpu::wrmsr(cpu::msr::kApicBase, base | kApicBaseEnable);
  write(kRegSvr, read(kRegSvr) | kSvrEnable | kSpuriousVector);
}

bool x2apic_mode() { return g_x2; }
uint32_t id() { return g_x2 ? read(kRegId) : read(kRegId) >> 24; }
void send_init(uint32_t apic_id) { send_icr(apic_id, kDeliveryInit | kLevelAssert); }
void send_startup(uint32_t apic_id, uint8_t page) { send_icr(apic_id, kDeliveryStartup | page); }
void send_nmi_all_but_self() {
  if (!g_base && !g_x2) return;  // before init(): nothing to stop yet
  send_icr(0, kDeliveryNmi | kLevelAssert | kShorthandAllButSelf);
}
void send_init_all_but_self() { send_icr(0, kDeliveryInit | kLevelAssert | kShorthandAllButSelf); }
void send_startup_all_but_self(uint8_t page) { send_icr(0, kDeliveryStartup | kShorthandAllButSelf | page); }
void send_fixed(uint32_t apic_id, uint8_t vector) { send_icr(apic_id, vector); }  // delivery mode 000 = fixed
bool ipi_pending() { return !g_x2 && (read(kRegIcrLow) & kDeliveryPending); }
void eoi() { write(kRegEoi, 0); }

namespace {
constexpr uint32_t kRegLvtTimer = 0x320, kRegLvtLint0 = 0x350, kRegTimerInitial = 0x380, kRegTimerDivide = 0x3E0;
constexpr uint32_t kLvtMasked = 1u << 16, kTimerDivideBy1 = 0xB;  // §10.5.4 Figure 10-10
}  // namespace
void timer_one_shot(uint8_t vector, uint32_t count) {
  write(kRegTimerDivide, kTimerDivideBy1);
  write(kRegLvtTimer, vector);  // one-shot mode (bits 18:17 = 0), not masked
  write(kRegTimerInitial, count);
}
void timer_stop() {
  write(kRegTimerInitial, 0);
  write(kRegLvtTimer, kLvtMasked);
}
uint32_t mask_lint0() {
  uint32_t v = read(kRegLvtLint0);
  write(kRegLvtLint0, v | kLvtMasked);
  return v;
}
void restore_lint0(uint32_t value) { write(kRegLvtLint0, value); }

}  // namespace mamori::drivers::lapic
