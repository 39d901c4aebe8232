#include "devices/acpi/pm.hpp"

namespace mamori::devices::acpi {
namespace {
// PM1_CNT bits (ACPI 6.4 §4.8.3.2.1, Table 4.14).
constexpr uint16_t kSciEn = 1u << 0, kBmRld = 1u << 1, kSlpEn = 1u << 13;
constexpr unsigned kSlpTypShift = 10;
constexpr uint16_t kSlpTypMask = 7u << kSlpTypShift;
// PM1_STS / PM1_EN bits this platform implements (§4.8.3.1, Tables 4.11/4.12):
// TMR_STS 0, PWRBTN_STS 8, WAK_STS 15; enables TMR_EN 0, PWRBTN_EN 8.
constexpr uint16_t kStsBits = (1u << 0) | (1u << 8) | (1u << 15);
constexpr uint16_t kEnBits = (1u << 0) | (1u << 8);
}  // namespace

void PmDevice::reset(uint64_t tsc_hz, uint64_t now0) {
  hz_ = tsc_hz ? tsc_hz : 1;
  t0_ = now0;
  sts_ = en_ = 0;
  cnt_ = kSciEn;
}

uint32_t PmDevice::timer(uint64_t now) const {
  // ticks * 3579545 / hz without a 128-bit division (the VMM has no libgcc):
  // whole seconds and the remainder separately; the remainder < hz keeps
  // the product below 2^64 for any TSC under 5 THz.
  uint64_t t = now - t0_;
  uint64_t q = t / hz_, r = t % hz_;
  return static_cast<uint32_t>(q * kPmTimerHz + r * kPmTimerHz / hz_);  // TMR_VAL_EXT: 32 bits, wraps
}

// The bytes of one register [reg_port, reg_port + reg_len) that a read of
// [port, port + size) covers, shifted to the access.
uint32_t PmDevice::reg_bytes(uint16_t reg_port, unsigned reg_len, uint32_t reg, uint16_t port, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    unsigned at = port + i;
    if (at >= reg_port && at < reg_port + reg_len) v |= ((reg >> (8 * (at - reg_port))) & 0xFF) << (8 * i);
  }
  return v;
}

uint32_t PmDevice::read(uint16_t port, unsigned size, uint64_t now) const {
  if (size != 1 && size != 2 && size != 4) return 0xFFFFFFFFu;
  uint32_t evt = static_cast<uint32_t>(sts_) | static_cast<uint32_t>(en_) << 16;
  return reg_bytes(kPm1aEvt, kPm1EvtLen, evt, port, size) | reg_bytes(kPm1aCnt, kPm1CntLen, cnt_, port, size) |
         reg_bytes(kPmTmr, kPmTmrLen, timer(now), port, size);
}

PmAction PmDevice::write(uint16_t port, unsigned size, uint32_t value) {
  PmAction act = PmAction::None;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    unsigned at = port + i;
    uint8_t b = static_cast<uint8_t>(value >> (8 * i));
    if (at == kPm1aEvt || at == kPm1aEvt + 1) {  // PM1_STS: write 1 to clear
      unsigned sh = 8 * (at - kPm1aEvt);
      sts_ = static_cast<uint16_t>(sts_ & ~((static_cast<uint16_t>(b) << sh) & kStsBits));
    } else if (at == kPm1aEvt + 2 || at == kPm1aEvt + 3) {
      unsigned sh = 8 * (at - kPm1aEvt - 2);
      uint16_t m = static_cast<uint16_t>(0xFFu << sh);
      en_ = static_cast<uint16_t>(((en_ & ~m) | (static_cast<uint16_t>(b) << sh)) & kEnBits);
    }
  }
  // PM1_CNT as a whole: SLP_EN acts on the SLP_TYP written with it.
  if (port <= kPm1aCnt + 1 && port + size > kPm1aCnt) {
    uint16_t cnt = cnt_;
    for (unsigned i = 0; i < size; ++i) {
      unsigned at = port + i;
      if (at != kPm1aCnt && at != kPm1aCnt + 1) continue;
      unsigned sh = 8 * (at - kPm1aCnt);
      cnt = static_cast<uint16_t>((cnt & ~(0xFFu << sh)) | ((value >> (8 * i)) & 0xFF) << sh);
    }
    bool slp_en = cnt & kSlpEn;
    cnt_ = static_cast<uint16_t>((cnt & (kBmRld | kSlpTypMask)) | kSciEn);  // SCI_EN fixed; SLP_EN, GBL_RLS write-only
    if (slp_en) act = ((cnt & kSlpTypMask) >> kSlpTypShift) == kSlpTypS5 ? PmAction::PowerOff : PmAction::Sleep;
  }
  return act;
}

}  // namespace mamori::devices::acpi
