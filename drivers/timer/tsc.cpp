#include "tsc.hpp"
#include "vmm/arch/cpu.hpp"

namespace mamori::drivers::tsc {
namespace {
// 8254 PIT: 1.193182 MHz input clock; channel 2 in mode 0 counts down once.
constexpr uint32_t kPitHz = 1193182;
constexpr uint16_t kPitCh2 = 0x42, kPitCmd = 0x43, kPort61 = 0x61;
constexpr uint8_t kCmdCh2Mode0Lohi = 0xB0;
constexpr uint8_t kGate2 = 0x01, kSpeaker = 0x02, kOut2 = 0x20;
constexpr uint32_t kCalibrationMs = 10;
uint64_t g_hz;
}  // namespace

void calibrate() {
  const uint16_t count = static_cast<uint16_t>(kPitHz * kCalibrationMs / 1000);
  uint8_t p61 = cpu::inb(kPort61);
  cpu::outb(kPort61, static_cast<uint8_t>((p61 & ~kSpeaker) | kGate2));
  cpu::outb(kPitCmd, kCmdCh2Mode0Lohi);
  cpu::outb(kPitCh2, static_cast<uint8_t>(count));
  cpu::outb(kPitCh2, static_cast<uint8_t>(count >> 8));
  uint64_t start = cpu::rdtsc();
  // OUT2 goes high when the count reaches 0. Bounded: a platform without a
  // PIT must not hang here (then fall back to CPUID.15h/16h below).
  uint64_t spins = 0;
  while (!(cpu::inb(kPort61) & kOut2) && ++spins < 50000000) {}
  uint64_t end = cpu::rdtsc();
  cpu::outb(kPort61, p61);
  if (spins < 50000000 && end > start) {
    g_hz = (end - start) * 1000 / kCalibrationMs;
    return;
  }
  auto l16 = cpu::cpuid(0x16);  // processor base frequency in MHz (SDM 2, CPUID leaf 16H)
  g_hz = l16.eax ? static_cast<uint64_t>(l16.eax) * 1000000 : 1000000000ull;
}

uint64_t hz() { return g_hz; }

void delay_us(uint64_t us) {
  uint64_t f = g_hz ? g_hz : 1000000000ull;
  uint64_t end = cpu::rdtsc() + f / 1000000 * us;
  while (cpu::rdtsc() < end) cpu::pause();
}

uint64_t now_us() {
  const uint64_t f = g_hz >= 1000000 ? g_hz : 1000000000ull;
  return cpu::rdtsc() / (f / 1000000);
}

}  // namespace mamori::drivers::tsc
