#include "devices/rtc/rtc.hpp"

#include "devices/port_bytes.hpp"

namespace mamori::devices::rtc {

namespace {

constexpr uint64_t kSecondsPerDay = 86400;
constexpr uint64_t kRtcHz = 32768;  // the PC's RTC crystal
// UIP rises 244 us before the update (datasheet "Update Cycle", tBUC = 8 cycles at 32.768 kHz).
constexpr uint64_t kUipCycles = 8;

uint8_t to_bcd(unsigned v) { return static_cast<uint8_t>(((v / 10) % 10) << 4 | (v % 10)); }
unsigned from_bcd(uint8_t v) { return (v >> 4) * 10u + (v & 0xF); }
bool valid_bcd(uint8_t v) { return (v >> 4) <= 9 && (v & 0xF) <= 9; }
unsigned clamp(unsigned v, unsigned lo, unsigned hi) { return v < lo ? lo : v > hi ? hi : v; }

// Days since 1970-01-01 of a proleptic Gregorian date and back (H. Hinnant,
// "chrono-Compatible Low-Level Date Algorithms").
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

CivilTime civil_from_epoch(uint64_t seconds) {
  const int64_t z = static_cast<int64_t>(seconds / kSecondsPerDay) + 719468;
  const uint64_t tod = seconds % kSecondsPerDay;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  CivilTime c{};
  c.year = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  c.month = static_cast<uint8_t>(m);
  c.day = static_cast<uint8_t>(d);
  c.hour = static_cast<uint8_t>(tod / 3600);
  c.minute = static_cast<uint8_t>((tod / 60) % 60);
  c.second = static_cast<uint8_t>(tod % 60);
  // 1970-01-01 was a Thursday (5 with Sunday = 1).
  c.weekday = static_cast<uint8_t>((seconds / kSecondsPerDay + 4) % 7 + 1);
  return c;
}

uint64_t epoch_from_civil(int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                          unsigned second) {
  const int64_t days = days_from_civil(year, month, day);
  if (days < 0) return 0;
  return static_cast<uint64_t>(days) * kSecondsPerDay + hour * 3600u + minute * 60u + second;
}

Rtc::Rtc(const Clock& clock, IrqLine* irq8, uint64_t epoch_seconds) : clock_(clock), irq_(irq8) {
  origin_ = last_eval_ = clock_.now();
  base_sec_ = frozen_sec_ = epoch_seconds;
}

void Rtc::reset() {
  advance(clock_.now());
  reg_b_ &= static_cast<uint8_t>(~(b::kPie | b::kAie | b::kUie | b::kSqwe));
  flags_ = 0;
  update_irq();
}

bool Rtc::running() const { return !(reg_b_ & b::kSet) && divider_running(); }

uint64_t Rtc::seconds_at(uint64_t t) const {
  if (!running()) return frozen_sec_;
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  return base_sec_ + (t - origin_) / hz;
}

uint64_t Rtc::epoch_seconds() const { return seconds_at(clock_.now()); }

void Rtc::set_seconds(uint64_t s, uint64_t t) {
  if (!running()) {
    frozen_sec_ = s;
    return;
  }
  // Keep the divider's phase (SET and time writes do not reset it).
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  base_sec_ = s - (t - origin_) / hz;  // modular: base_sec_ + k == s
}

uint32_t Rtc::periodic_cycles() const {
  // Register A RS3-RS0 with a 32.768 kHz time base (datasheet Table 5):
  // 0 none, 1 = 3.90625 ms, 2 = 7.8125 ms, 3..15 = 2^(RS-1) cycles
  // (122.070 us ... 500 ms).
  const unsigned rs = reg_a_ & a::kRsMask;
  if (rs == 0) return 0;
  return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

uint64_t Rtc::next_periodic_after(uint64_t t) const {
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  const uint64_t p = periodic_cycles();
  const uint64_t k = muldiv(t - origin_, kRtcHz, hz) / p + 1;
  return origin_ + muldiv_ceil(k * p, hz, kRtcHz);
}

uint64_t Rtc::next_second_after(uint64_t t) const {
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  return origin_ + ((t - origin_) / hz + 1) * hz;
}

uint64_t Rtc::next_alarm_second_after(uint64_t s) const {
  // Alarm bytes compare with the time bytes at each update; 11xxxxxx is
  // "don't care" (datasheet "Alarm"). A value no time can have never matches.
  const bool dm = reg_b_ & b::kDm, h12 = !(reg_b_ & b::k24h);
  auto decode = [dm](uint8_t v, unsigned max) -> int {
    if ((v & 0xC0) == 0xC0) return -1;
    if (!dm && !valid_bcd(v)) return -2;
    const unsigned x = dm ? v : from_bcd(v);
    return x <= max ? static_cast<int>(x) : -2;
  };
  const int as = decode(cmos_[reg::kSecondsAlarm], 59);
  const int am = decode(cmos_[reg::kMinutesAlarm], 59);
  int ah;
  const uint8_t hv = cmos_[reg::kHoursAlarm];
  if ((hv & 0xC0) == 0xC0) {
    ah = -1;
  } else if (h12) {
    const int h = decode(hv & 0x7F, 12);
    ah = h < 1 ? -2 : (h % 12) + ((hv & 0x80) ? 12 : 0);
  } else {
    ah = decode(hv, 23);
  }
  if (as == -2 || am == -2 || ah == -2) return kNever;
  // Jump forward over non-matching hours, minutes and seconds: a few
  // hundred steps at most within two days.
  const uint64_t limit = s + 2 * kSecondsPerDay;
  uint64_t t = s + 1;
  while (t <= limit) {
    const uint64_t tod = t % kSecondsPerDay;
    const int h = static_cast<int>(tod / 3600), m = static_cast<int>((tod / 60) % 60), sec = static_cast<int>(tod % 60);
    if (ah >= 0 && h != ah) {
      t += 3600 - tod % 3600;
    } else if (am >= 0 && m != am) {
      t += 60 - tod % 60;
    } else if (as >= 0 && sec != as) {
      t += sec < as ? static_cast<uint64_t>(as - sec) : static_cast<uint64_t>(60 - sec);
    } else {
      return t;
    }
  }
  return kNever;
}

void Rtc::advance(uint64_t t) {
  if (t <= last_eval_) return;
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  const uint64_t from = last_eval_;  // origin_ <= last_eval_ in time, always
  {
    // Periodic interrupt flag: an edge of the selected divider tap.
    if (divider_running() && periodic_cycles()) {
      const uint64_t p = periodic_cycles();
      if (muldiv(t - origin_, kRtcHz, hz) / p > muldiv(from - origin_, kRtcHz, hz) / p) flags_ |= c::kPf;
    }
    // Update-ended and alarm flags at each second update.
    if (running()) {
      const uint64_t k0 = (from - origin_) / hz, k1 = (t - origin_) / hz;
      if (k1 > k0) {
        flags_ |= c::kUf;
        const uint64_t s0 = base_sec_ + k0, s1 = base_sec_ + k1;
        const uint64_t hit = next_alarm_second_after(s0);
        if (hit != kNever && (k1 - k0 >= kSecondsPerDay || hit - s0 <= s1 - s0)) flags_ |= c::kAf;
      }
    }
  }
  last_eval_ = t;
}

uint64_t Rtc::next_event() const {
  if (irq_level_) return kNever;  // IRQF stays set until register C is read
  uint64_t ev = kNever;
  auto take = [&ev](uint64_t v) { ev = v < ev ? v : ev; };
  if ((reg_b_ & b::kPie) && divider_running() && periodic_cycles()) take(next_periodic_after(last_eval_));
  if (running()) {
    if (reg_b_ & b::kUie) take(next_second_after(last_eval_));
    if (reg_b_ & b::kAie) {
      const uint64_t s = next_alarm_second_after(seconds_at(last_eval_));
      const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
      if (s != kNever) take(origin_ + (s - base_sec_) * hz);
    }
  }
  return ev;
}

void Rtc::update() {
  advance(clock_.now());
  update_irq();
}

void Rtc::update_irq() {
  // IRQF = PF&PIE | AF&AIE | UF&UIE (datasheet "Register C"); the IRQ pin
  // is active while IRQF is set.
  const bool level = ((flags_ & c::kPf) && (reg_b_ & b::kPie)) || ((flags_ & c::kAf) && (reg_b_ & b::kAie)) ||
                     ((flags_ & c::kUf) && (reg_b_ & b::kUie));
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_) irq_->set_level(level);
  }
}

void Rtc::encode_time(uint64_t s, uint8_t* regs) const {
  const bool dm = reg_b_ & b::kDm;
  auto enc = [dm](unsigned v) { return dm ? static_cast<uint8_t>(v) : to_bcd(v); };
  const CivilTime ct = civil_from_epoch(s);
  regs[reg::kSeconds] = enc(ct.second);
  regs[reg::kSecondsAlarm] = cmos_[reg::kSecondsAlarm];
  regs[reg::kMinutes] = enc(ct.minute);
  regs[reg::kMinutesAlarm] = cmos_[reg::kMinutesAlarm];
  if (reg_b_ & b::k24h) {
    regs[reg::kHours] = enc(ct.hour);
  } else {
    // 12-hour mode: 1-12, bit 7 = PM.
    const unsigned h12 = ct.hour % 12 == 0 ? 12 : ct.hour % 12;
    regs[reg::kHours] = static_cast<uint8_t>(enc(h12) | (ct.hour >= 12 ? 0x80 : 0));
  }
  regs[reg::kHoursAlarm] = cmos_[reg::kHoursAlarm];
  regs[reg::kDayOfWeek] = enc(ct.weekday);
  regs[reg::kDayOfMonth] = enc(ct.day);
  regs[reg::kMonth] = enc(ct.month);
  regs[reg::kYear] = enc(static_cast<unsigned>(ct.year % 100));
  regs[10] = enc(static_cast<unsigned>(ct.year / 100));
}

uint64_t Rtc::decode_time(const uint8_t* regs) const {
  // Out-of-range values (a guest's garbage) are clamped: the clock keeps a
  // defined time instead of the undefined behaviour of the chip.
  const bool dm = reg_b_ & b::kDm;
  auto dec = [dm](uint8_t v) { return dm ? unsigned{v} : from_bcd(v); };
  const unsigned sec = clamp(dec(regs[reg::kSeconds]), 0, 59);
  const unsigned min = clamp(dec(regs[reg::kMinutes]), 0, 59);
  unsigned hour;
  if (reg_b_ & b::k24h) {
    hour = clamp(dec(regs[reg::kHours]), 0, 23);
  } else {
    const unsigned h12 = clamp(dec(regs[reg::kHours] & 0x7F), 1, 12);
    hour = h12 % 12 + ((regs[reg::kHours] & 0x80) ? 12 : 0);
  }
  const unsigned day = clamp(dec(regs[reg::kDayOfMonth]), 1, 31);
  const unsigned month = clamp(dec(regs[reg::kMonth]), 1, 12);
  const unsigned yy = clamp(dec(regs[reg::kYear]), 0, 99);
  const unsigned century = clamp(dec(regs[10]), 19, 99);
  int64_t year = static_cast<int64_t>(century) * 100 + yy;
  if (year < 1970) year = 1970;
  return epoch_from_civil(year, month, day, hour, min, sec);
}

void Rtc::set_cmos(uint8_t index, uint8_t value) {
  index &= 0x7F;
  if (index <= reg::kD || index == reg::kCentury) return;  // clock registers, not NVRAM
  cmos_[index] = value;
}

void Rtc::set_memory_size(uint64_t below_4g, uint64_t above_4g) {
  constexpr uint64_t KiB = 1024, MiB = 1024 * KiB;
  auto put16 = [this](uint8_t lo, uint64_t v) {
    cmos_[lo] = static_cast<uint8_t>(v);
    cmos_[lo + 1] = static_cast<uint8_t>(v >> 8);
  };
  put16(0x15, 640);  // conventional memory, KiB
  uint64_t ext = below_4g > MiB ? (below_4g - MiB) / KiB : 0;
  if (ext > 0xFFFF) ext = 0xFFFF;
  put16(0x17, ext);
  put16(0x30, ext);
  uint64_t above16 = below_4g > 16 * MiB ? (below_4g - 16 * MiB) / (64 * KiB) : 0;
  if (above16 > 0xFFFF) above16 = 0xFFFF;
  put16(0x34, above16);
  uint64_t high = above_4g / (64 * KiB);
  if (high > 0xFFFFFF) high = 0xFFFFFF;
  cmos_[0x5B] = static_cast<uint8_t>(high);
  cmos_[0x5C] = static_cast<uint8_t>(high >> 8);
  cmos_[0x5D] = static_cast<uint8_t>(high >> 16);
}

uint32_t Rtc::read(uint16_t port, uint8_t size) {
  return read_bytes(port, size, [this](uint16_t p) { return handles(p) ? read8(p) : uint8_t{0xFF}; });
}

void Rtc::write(uint16_t port, uint8_t size, uint32_t value) {
  write_bytes(port, size, value, [this](uint16_t p, uint8_t v) {
    if (handles(p)) write8(p, v);
  });
}

uint8_t Rtc::read8(uint16_t port) {
  if (port == kIndexPort) return 0xFF;  // the index register is write-only on PCs
  return read_register(index_);
}

void Rtc::write8(uint16_t port, uint8_t v) {
  if (port == kIndexPort) {
    index_ = v & 0x7F;
    nmi_masked_ = v & 0x80;
    return;
  }
  write_register(index_, v);
}

uint8_t Rtc::read_register(uint8_t idx) {
  const uint64_t t = clock_.now();
  advance(t);
  uint8_t v;
  switch (idx) {
    case reg::kSecondsAlarm:
    case reg::kMinutesAlarm:
    case reg::kHoursAlarm:
      v = cmos_[idx];
      break;
    case reg::kSeconds:
    case reg::kMinutes:
    case reg::kHours:
    case reg::kDayOfWeek:
    case reg::kDayOfMonth:
    case reg::kMonth:
    case reg::kYear:
    case reg::kCentury: {
      const uint8_t slot = idx == reg::kCentury ? 10 : idx;
      if (reg_b_ & b::kSet) {
        v = image_[slot];
      } else {
        uint8_t regs[11];
        encode_time(seconds_at(t), regs);
        v = regs[slot];
      }
      break;
    }
    case reg::kA: {
      v = reg_a_;
      const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
      const uint64_t window = muldiv(kUipCycles, hz, kRtcHz);
      if (running() && (t - origin_) % hz >= hz - window) v |= a::kUip;
      break;
    }
    case reg::kB:
      v = reg_b_;
      break;
    case reg::kC:
      // Reading C returns and clears the flags, which drops IRQ8.
      v = static_cast<uint8_t>(flags_ | (irq_level_ ? c::kIrqf : 0));
      flags_ = 0;
      update_irq();
      break;
    case reg::kD:
      v = d::kVrt;  // valid RAM and time: the battery is good
      break;
    default:
      v = cmos_[idx];
      break;
  }
  update_irq();  // flags the elapsed time just set reach the line now
  return v;
}

void Rtc::write_register(uint8_t idx, uint8_t v) {
  const uint64_t t = clock_.now();
  advance(t);
  switch (idx) {
    case reg::kSecondsAlarm:
    case reg::kMinutesAlarm:
    case reg::kHoursAlarm:
      cmos_[idx] = v;
      break;
    case reg::kSeconds:
    case reg::kMinutes:
    case reg::kHours:
    case reg::kDayOfWeek:
    case reg::kDayOfMonth:
    case reg::kMonth:
    case reg::kYear:
    case reg::kCentury: {
      const uint8_t slot = idx == reg::kCentury ? 10 : idx;
      if (reg_b_ & b::kSet) {
        image_[slot] = v;  // taken over when SET is cleared
      } else {
        uint8_t regs[11];
        encode_time(seconds_at(t), regs);
        regs[slot] = v;
        set_seconds(decode_time(regs), t);
      }
      break;
    }
    case reg::kA: {
      const bool was_running = running(), was_div = divider_running();
      const uint64_t s = seconds_at(t);
      reg_a_ = v & 0x7F;  // UIP is read-only
      if (!was_div && divider_running()) {
        // Leaving divider reset: the first update comes 500 ms later.
        // (Modular: all uses are differences t - origin_ with t >= the
        // origin in time, so a clock near 0 wraps harmlessly.)
        origin_ = t - (clock_.hz() ? clock_.hz() : 1) / 2;
      }
      if (was_running && !running())
        frozen_sec_ = s;
      else if (!was_running && running())
        set_seconds(frozen_sec_, t);
      break;
    }
    case reg::kB: {
      const uint8_t old = reg_b_;
      const uint64_t s = seconds_at(t);
      // SET = 1 aborts updates and clears UIE (datasheet "Register B").
      const uint8_t nv = (v & b::kSet) ? static_cast<uint8_t>(v & ~b::kUie) : v;
      reg_b_ = nv;
      if (!(old & b::kSet) && (nv & b::kSet)) {
        frozen_sec_ = s;
        encode_time(s, image_);
      } else if ((old & b::kSet) && !(nv & b::kSet)) {
        const uint64_t set_to = decode_time(image_);
        frozen_sec_ = set_to;
        if (running()) set_seconds(set_to, t);
      }
      break;
    }
    case reg::kC:
    case reg::kD:
      break;  // read-only
    default:
      cmos_[idx] = v;
      break;
  }
  update_irq();
}

}  // namespace mamori::devices::rtc
