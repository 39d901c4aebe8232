#include "devices/pit/pit.hpp"

#include "devices/port_bytes.hpp"

namespace mamori::devices::pit {

namespace {

// 8254 BCD mode: four decades. Invalid digits (A-F) have no defined
// meaning; they are taken at face value modulo 10^4 so nothing breaks.
uint32_t from_bcd(uint16_t v) {
  return (((v >> 12) & 0xF) * 1000u + ((v >> 8) & 0xF) * 100u + ((v >> 4) & 0xF) * 10u + (v & 0xF)) % 10000u;
}
uint16_t to_bcd(uint32_t v) {
  v %= 10000u;
  return static_cast<uint16_t>(((v / 1000) << 12) | (((v / 100) % 10) << 8) | (((v / 10) % 10) << 4) | (v % 10));
}

// Period start and length of a mode 2/3 counter at edge t, taking a count
// written during counting into account (it starts at the end of the
// period in which it was written: datasheet "Mode 2", "Mode 3").
void period_at(const Channel& c, uint64_t t, uint64_t& load, uint32_t& n) {
  if (c.pending && t >= c.pending_tick) {
    load = c.pending_tick, n = c.pending_n;
  } else {
    load = c.load_tick, n = c.n;
  }
}

}  // namespace

uint32_t modulus(const Channel& c) { return c.bcd ? 10000u : 0x10000u; }

Pit::Pit(const Clock& clock, IrqLine* irq0) : clock_(clock), irq0_(irq0) { reset(); }

void Pit::reset() {
  for (uint8_t i = 0; i < 3; ++i) {
    ch_[i] = Channel{};
    ch_[i].rw = 3;
    ch_[i].control = 0x30;
    ch_[i].gate = i != 2;  // GATE0/1 tied high; GATE2 = port 0x61 bit 0 = 0
    ch_[i].null_until = kNever;
  }
  port_b_ = 0;
  next_edge_ = kNever;
  if (irq_level_) {
    irq_level_ = false;
    if (irq0_) irq0_->set_level(false);
  }
}

uint64_t Pit::tick() const {
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  return muldiv(clock_.now(), kPitHz, hz);
}

uint64_t Pit::next_event() const {
  if (next_edge_ == kNever) return kNever;
  const uint64_t hz = clock_.hz() ? clock_.hz() : 1;
  return muldiv_ceil(next_edge_, hz, kPitHz);
}

void Pit::update() { sync_irq(tick()); }

uint16_t Pit::counter(uint8_t ch) const { return static_cast<uint16_t>(ce_at(ch_[ch % 3], tick())); }
bool Pit::out(uint8_t ch) const { return out_at(ch_[ch % 3], tick()); }

uint32_t Pit::ce_at(const Channel& c, uint64_t t) const {
  if (c.phase != Phase::Counting || t < c.load_tick) return c.frozen_ce % modulus(c);
  const uint32_t m = modulus(c);
  switch (c.mode) {
    case 2:
    case 3: {
      uint64_t load;
      uint32_t n;
      period_at(c, t, load, n);
      const uint32_t p = static_cast<uint32_t>((t - load) % n);
      uint32_t v;
      if (c.mode == 2) {
        v = n - p;  // n, n-1, ..., 1, reload
      } else if ((n & 1) == 0) {
        // Mode 3, even count: decrement by two, OUT toggles at each expiry.
        v = p < n / 2 ? n - 2 * p : n - 2 * (p - n / 2);
      } else {
        // Mode 3, odd count: N-1 loaded, decrement by two; OUT high one
        // CLK longer ((N+1)/2) than low ((N-1)/2).
        const uint32_t h = (n + 1) / 2;
        v = p < h ? (n - 1) - 2 * p : (n - 1) - 2 * (p - h);
      }
      return v % m;
    }
    default: {
      // Modes 0, 1, 4, 5 count down by one and wrap (FFFF or 9999).
      const uint64_t e = t - c.load_tick;
      return static_cast<uint32_t>((c.ce0 + m - e % m) % m);
    }
  }
}

bool Pit::out_at(const Channel& c, uint64_t t) const {
  switch (c.phase) {
    case Phase::Idle:
      return c.mode != 0;  // datasheet: OUT low after a mode 0 control word, else high
    case Phase::WaitTrigger:
    case Phase::Stopped:
      return true;
    case Phase::Paused:
      return c.mode == 0 ? c.tc_done : true;
    case Phase::Disabled:
      return false;
    case Phase::Counting:
      break;
  }
  if (t < c.load_tick) return c.pre_out;
  const uint64_t e = t - c.load_tick;
  switch (c.mode) {
    case 0:
      return c.tc_done || e >= c.ce0;  // high at terminal count until reprogrammed
    case 1:
      return e >= c.ce0;  // low from the trigger until terminal count
    case 4:
      return c.tc_done || e != c.ce0;  // one CLK low at terminal count, once
    case 5:
      return e != c.ce0;
    default: {
      uint64_t load;
      uint32_t n;
      period_at(c, t, load, n);
      const uint32_t p = static_cast<uint32_t>((t - load) % n);
      return c.mode == 2 ? p != n - 1 : p < (n + 1) / 2;
    }
  }
}

uint64_t Pit::next_rise_after(const Channel& c, uint64_t t) const {
  if (c.phase != Phase::Counting) return kNever;
  uint64_t r;
  switch (c.mode) {
    case 0:
      if (c.tc_done) return kNever;
      r = c.load_tick + c.ce0;
      break;
    case 1:
      r = c.load_tick + c.ce0;
      break;
    case 4:
      if (c.tc_done) return kNever;
      r = c.load_tick + c.ce0 + 1;
      break;
    case 5:
      r = c.load_tick + c.ce0 + 1;
      break;
    default: {
      // Modes 2 and 3 rise at the start of every period after the first.
      uint64_t load;
      uint32_t n;
      period_at(c, t, load, n);
      if (t < load) return load + n;
      return load + ((t - load) / n + 1) * n;
    }
  }
  return r > t ? r : kNever;
}

void Pit::normalize(Channel& c, uint64_t t) {
  if (c.pending && t >= c.pending_tick) {
    c.load_tick = c.pending_tick;
    c.n = c.pending_n;
    c.pending = false;
  }
}

void Pit::freeze(Channel& c, uint64_t t) { c.frozen_ce = ce_at(c, t); }

void Pit::sync_irq(uint64_t t) {
  Channel& c = ch_[0];
  normalize(c, t);
  auto emit = [this](bool level) {
    irq_level_ = level;
    if (irq0_) irq0_->set_level(level);
  };
  if (t >= next_edge_) {
    // OUT0 rose (at least once) since the last look: one IRQ0 edge.
    ++irq_edges_;
    if (irq_level_) emit(false);
    emit(true);
  }
  const bool cur = out_at(c, t);
  if (cur != irq_level_) emit(cur);
  next_edge_ = next_rise_after(c, t);
}

uint32_t Pit::read(uint16_t port, uint8_t size) {
  return read_bytes(port, size, [this](uint16_t p) { return handles(p) ? read8(p) : uint8_t{0xFF}; });
}

void Pit::write(uint16_t port, uint8_t size, uint32_t value) {
  write_bytes(port, size, value, [this](uint16_t p, uint8_t v) {
    if (handles(p)) write8(p, v);
  });
}

uint8_t Pit::read8(uint16_t port) {
  const uint64_t t = tick();
  sync_irq(t);
  if (port == kPortB) {
    const bool refresh = (t / kRefreshTicks) & 1;
    return static_cast<uint8_t>(port_b_ | (refresh ? 0x10 : 0) | (out_at(ch_[2], t) ? 0x20 : 0));
  }
  if (port == kControl) return 0xFF;  // the control word register is write-only
  Channel& c = ch_[port - kCounter0];
  // Read-back status comes first, then a latched count (datasheet "Read-Back Command").
  if (c.status_latched) {
    c.status_latched = false;
    return c.status;
  }
  switch (c.latch_state) {
    case 1:
      c.latch_state = 0;
      return static_cast<uint8_t>(c.latched);
    case 2:
      c.latch_state = 0;
      return static_cast<uint8_t>(c.latched >> 8);
    case 3:
      c.latch_state = 4;
      return static_cast<uint8_t>(c.latched);
    case 4:
      c.latch_state = 0;
      return static_cast<uint8_t>(c.latched >> 8);
    default:
      break;
  }
  // Simple read of the counting element.
  const uint32_t v = ce_at(c, t);
  const uint16_t r = c.bcd ? to_bcd(v) : static_cast<uint16_t>(v);
  if (c.rw == 1) return static_cast<uint8_t>(r);
  if (c.rw == 2) return static_cast<uint8_t>(r >> 8);
  c.read_msb_next = !c.read_msb_next;
  return c.read_msb_next ? static_cast<uint8_t>(r) : static_cast<uint8_t>(r >> 8);
}

void Pit::latch_count(Channel& c, uint64_t t) {
  if (c.latch_state != 0) return;  // a second latch before the read is ignored
  const uint32_t v = ce_at(c, t);
  c.latched = c.bcd ? to_bcd(v) : static_cast<uint16_t>(v);
  c.latch_state = c.rw == 1 ? 1 : c.rw == 2 ? 2 : 3;
}

void Pit::latch_status(Channel& c, uint64_t t) {
  if (c.status_latched) return;
  // Status byte: OUT, NULL COUNT, then the control word's RW1-BCD bits.
  c.status = static_cast<uint8_t>((out_at(c, t) ? 0x80 : 0) | (t < c.null_until ? 0x40 : 0) | (c.control & 0x3F));
  c.status_latched = true;
}

void Pit::write8(uint16_t port, uint8_t v) {
  const uint64_t t = tick();
  sync_irq(t);
  if (port == kPortB) {
    port_b_ = v & 0x0F;
    set_gate(ch_[2], t, v & 1);
  } else if (port == kControl) {
    const uint8_t sc = v >> 6;
    if (sc == 3) {
      // Read-back command: D5 = 0 latches counts, D4 = 0 latches status,
      // D3-D1 select counters 2-0.
      for (uint8_t i = 0; i < 3; ++i) {
        if (!(v & (2u << i))) continue;
        if (!(v & 0x20)) latch_count(ch_[i], t);
        if (!(v & 0x10)) latch_status(ch_[i], t);
      }
    } else {
      Channel& c = ch_[sc];
      const uint8_t rw = (v >> 4) & 3;
      if (rw == 0) {
        latch_count(c, t);  // counter latch command
      } else {
        // Control word: all control logic is reset, OUT to its initial state.
        normalize(c, t);
        freeze(c, t);
        c.control = v & 0x3F;
        c.rw = rw;
        c.mode = (v >> 1) & 7;
        if (c.mode > 5) c.mode = static_cast<uint8_t>(c.mode - 4);
        c.bcd = v & 1;
        c.phase = Phase::Idle;
        c.tc_done = false;
        c.pending = false;
        c.null_until = kNever;
        c.write_msb_next = c.read_msb_next = false;
        c.latch_state = 0;
        c.status_latched = false;
      }
    }
  } else {
    Channel& c = ch_[port - kCounter0];
    if (c.rw == 1) {
      write_count(c, t, v);
    } else if (c.rw == 2) {
      write_count(c, t, uint32_t{v} << 8);
    } else if (!c.write_msb_next) {
      c.write_lsb = v;
      c.write_msb_next = true;
      if (c.mode == 0) {
        // Mode 0: writing the first byte disables counting and sets OUT low.
        normalize(c, t);
        freeze(c, t);
        c.phase = Phase::Disabled;
        c.tc_done = false;
      }
    } else {
      c.write_msb_next = false;
      write_count(c, t, c.write_lsb | (uint32_t{v} << 8));
    }
  }
  sync_irq(t);
}

void Pit::write_count(Channel& c, uint64_t t, uint32_t raw) {
  normalize(c, t);
  const uint32_t m = modulus(c);
  uint32_t n = c.bcd ? from_bcd(static_cast<uint16_t>(raw)) : (raw & 0xFFFF);
  if (n == 0) n = m;  // 0 is the largest count
  // A count of 1 is illegal in modes 2 and 3 (datasheet); use 2 so the
  // period stays defined.
  if ((c.mode == 2 || c.mode == 3) && n == 1) n = 2;
  switch (c.mode) {
    case 0:
    case 4:
      // Loaded on the next CLK, which does not decrement: OUT changes N+1
      // CLKs after the write (datasheet "Mode 0", "Mode 4").
      freeze(c, t);
      c.n = c.ce0 = n;
      c.load_tick = t + 1;
      c.null_until = t + 1;
      c.tc_done = false;
      c.pre_out = c.mode == 4;
      if (c.gate) {
        c.phase = Phase::Counting;
      } else {
        c.phase = Phase::Paused;
        c.frozen_ce = n;
      }
      break;
    case 1:
    case 5:
      // Used at the next GATE rising edge (also when already triggered).
      c.n = n;
      c.null_until = kNever;
      if (c.phase == Phase::Idle) c.phase = Phase::WaitTrigger;
      break;
    default:  // 2, 3
      if (c.phase == Phase::Counting && t >= c.load_tick) {
        const uint64_t e = t - c.load_tick;
        c.pending_tick = c.load_tick + (e / c.n + 1) * c.n;
        c.pending_n = n;
        c.pending = true;
        c.null_until = c.pending_tick;
      } else if (c.phase == Phase::Counting) {
        c.n = n;  // not loaded yet: replaces the count
      } else if (c.phase == Phase::Stopped || !c.gate) {
        c.n = n;
        c.phase = Phase::Stopped;
        c.null_until = kNever;  // loads on the GATE rising edge
      } else {
        c.n = n;
        c.load_tick = t + 1;
        c.null_until = t + 1;
        c.pre_out = true;
        c.phase = Phase::Counting;
      }
      break;
  }
}

void Pit::set_gate(Channel& c, uint64_t t, bool gate) {
  if (gate == c.gate) return;
  normalize(c, t);
  c.gate = gate;
  switch (c.mode) {
    case 0:
    case 4:
      // GATE low suspends counting; high resumes it (from the next CLK).
      if (!gate && c.phase == Phase::Counting) {
        if (t >= c.load_tick) {
          if (t - c.load_tick >= c.ce0) c.tc_done = true;
          freeze(c, t);
        } else {
          c.frozen_ce = c.ce0;
        }
        c.phase = Phase::Paused;
      } else if (gate && c.phase == Phase::Paused) {
        c.pre_out = out_at(c, t);
        c.ce0 = c.frozen_ce;
        c.load_tick = t + 1;
        c.phase = Phase::Counting;
      }
      break;
    case 1:
    case 5:
      // A rising edge triggers: CE loaded from CR on the next CLK.
      if (gate && (c.phase == Phase::WaitTrigger || c.phase == Phase::Counting)) {
        c.pre_out = out_at(c, t);
        c.ce0 = c.n;
        c.load_tick = t + 1;
        c.null_until = t + 1;
        c.tc_done = false;
        c.phase = Phase::Counting;
      }
      break;
    default:
      // Modes 2/3: GATE low stops counting and forces OUT high; the rising
      // edge reloads the counter on the next CLK.
      if (!gate && c.phase == Phase::Counting) {
        freeze(c, t);
        c.phase = Phase::Stopped;
      } else if (gate && c.phase == Phase::Stopped) {
        if (c.pending) c.n = c.pending_n, c.pending = false;
        c.load_tick = t + 1;
        c.null_until = t + 1;
        c.pre_out = true;
        c.phase = Phase::Counting;
      }
      break;
  }
}

}  // namespace mamori::devices::pit
