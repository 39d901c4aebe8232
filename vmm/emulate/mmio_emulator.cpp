#include "vmm/emulate/mmio_emulator.hpp"

#include "vmm/emulate/decoder.hpp"

namespace mamori::emulate {
namespace {
constexpr uint64_t kCr0Pe = 1ull << 0;
constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint64_t kRflagsVm = 1ull << 17, kRflagsAc = 1ull << 18;  // SDM 1 §3.4.3
constexpr uint32_t kCsL = 1u << 13, kCsDb = 1u << 14;                  // SDM 3C §25.4.1 access rights
constexpr uint64_t kPage = 4096;

// The walker reads whole entries through this.
bool read_entry(void* ctx, uint64_t gpa, unsigned n, uint64_t* out) {
  uint8_t b[8];
  if (n > 8 || !static_cast<GuestRam*>(ctx)->read(gpa, b, n)) return false;
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t{b[i]} << (8 * i);
  *out = v;
  return true;
}

// SDM 3A §2.2 / SDM 1 §3.6: real and virtual-8086 mode and CS.D = 0 are
// 16-bit; CS.L = 1 in IA-32e mode is 64-bit.
CpuMode mode_of(const VcpuState& s) {
  if (!(s.paging.cr0 & kCr0Pe) || (s.rflags & kRflagsVm)) return CpuMode::Real16;
  if ((s.paging.efer & kEferLma) && (s.cs_access_rights & kCsL)) return CpuMode::Long64;
  return (s.cs_access_rights & kCsDb) ? CpuMode::Protected32 : CpuMode::Protected16;
}

// Segment base + offset (SDM 3A §3.4; in 64-bit mode only FS and GS have a
// base, SDM 1 §3.3.7.1; outside it linear addresses are 32 bits).
uint64_t linear(const VcpuState& s, CpuMode m, Segment seg, uint64_t offset) {
  uint64_t base = s.segment_base[static_cast<unsigned>(seg)];
  if (m == CpuMode::Long64) return (seg == Segment::Fs || seg == Segment::Gs ? base : 0) + offset;
  return (base + offset) & 0xFFFFFFFFull;
}

bool canonical(uint64_t la) { return static_cast<uint64_t>(static_cast<int64_t>(la << 16) >> 16) == la; }

uint64_t next_rip(uint64_t rip, uint8_t length, CpuMode m) {
  uint64_t r = rip + length;
  if (m == CpuMode::Long64) return r;
  return m == CpuMode::Protected32 ? (r & 0xFFFFFFFFull) : (r & 0xFFFFull);
}

Emulation stop(StopReason why, uint64_t la, uint64_t elements = 0) {
  Emulation r;
  r.outcome = Outcome::Stop;
  r.stop = why;
  r.linear = la;
  r.elements = elements;
  return r;
}

Emulation inject(uint8_t vector, bool has_code, uint32_t code, uint64_t la, uint64_t elements) {
  Emulation r;
  r.outcome = Outcome::Inject;
  r.event.vector = vector;
  r.event.has_error_code = has_code;
  r.event.error_code = code;
  r.linear = la;
  r.elements = elements;
  return r;
}

Emulation page_fault(const VcpuState& s, WalkStatus st, const Accessor& a, uint64_t la, uint64_t elements) {
  Emulation r = inject(kVectorPf, true, page_fault_error_code(s.paging, st, a), la, elements);
  r.event.page_fault = true;
  r.event.cr2 = la;
  return r;
}

// One element of a string instruction, split at page boundaries: up to two
// pieces, each in guest RAM or inside the window (SDM 3A §4: every byte is
// translated; an element crossing a page uses both pages' translations).
struct Piece {
  uint64_t la = 0, gpa = 0;
  uint8_t offset = 0, n = 0;  // bytes [offset, offset + n) of the element
  bool mmio = false;
};
struct Element {
  Piece piece[2];
  unsigned count = 0;
  bool any_mmio() const { return (count > 0 && piece[0].mmio) || (count > 1 && piece[1].mmio); }
};

enum class Step : uint8_t { Ok, Fault, Broken, Outside };
struct StepResult {
  Step step = Step::Ok;
  Emulation fault{};  // Step::Fault: the event
};

class StringRun {
 public:
  StringRun(const VcpuState& s, CpuMode m, GuestRam& ram, MmioWindow& w, uint64_t done)
      : s_(s), mode_(m), ram_(ram), w_(w), done_(done) {}

  // Translates the element at linear `la` for access `a`.
  StepResult translate(uint64_t la, uint8_t size, const Accessor& a, Segment seg, Element& e) {
    StepResult out;
    e.count = 0;
    if (mode_ == CpuMode::Long64 && (!canonical(la) || !canonical(la + size - 1))) {
      // SDM 3A §6.15: a non-canonical data address is #SS(0) through SS, else #GP(0).
      out.step = Step::Fault;
      out.fault = inject(seg == Segment::Ss ? kVectorSs : kVectorGp, true, 0, la, done_);
      return out;
    }
    uint8_t offset = 0;
    while (offset < size) {
      uint64_t at = la + offset;
      if (mode_ != CpuMode::Long64) at &= 0xFFFFFFFFull;
      uint64_t in_page = kPage - (at & (kPage - 1));
      uint8_t n = static_cast<uint8_t>(in_page < uint64_t{size} - offset ? in_page : size - offset);
      WalkResult wr = translate_guest_access(s_.paging, at, a, GuestMemoryReader{read_entry, &ram_});
      if (is_page_fault(wr.status)) {
        out.step = Step::Fault;
        out.fault = page_fault(s_, wr.status, a, at, done_);
        return out;
      }
      if (wr.status != WalkStatus::Ok) {
        out.step = Step::Broken;
        out.fault = stop(StopReason::PagingBroken, at, done_);
        return out;
      }
      Piece& p = e.piece[e.count++];
      p.la = at;
      p.gpa = wr.gpa;
      p.offset = offset;
      p.n = n;
      p.mmio = wr.gpa >= w_.gpa && wr.gpa - w_.gpa < w_.size && n <= w_.size - (wr.gpa - w_.gpa);
      if (!p.mmio && !ram_.contains(wr.gpa, n)) out.step = Step::Outside;  // another device or nothing
      offset = static_cast<uint8_t>(offset + n);
    }
    return out;
  }

  uint64_t read(const Element& e) {
    uint64_t v = 0;
    for (unsigned i = 0; i < e.count; ++i) {
      const Piece& p = e.piece[i];
      uint64_t part = 0;
      if (p.mmio) {
        part = device_read(p);
      } else {
        uint8_t b[8] = {};
        ram_.read(p.gpa, b, p.n);  // contains() held: cannot fail
        for (unsigned k = 0; k < p.n; ++k) part |= uint64_t{b[k]} << (8 * k);
      }
      v |= part << (8 * p.offset);
    }
    return v;
  }

  void write(const Element& e, uint64_t v) {
    for (unsigned i = 0; i < e.count; ++i) {
      const Piece& p = e.piece[i];
      uint64_t part = v >> (8 * p.offset);
      if (p.mmio) {
        device_write(p, part);
      } else {
        uint8_t b[8];
        for (unsigned k = 0; k < p.n; ++k) b[k] = static_cast<uint8_t>(part >> (8 * k));
        ram_.write(p.gpa, b, p.n);
      }
    }
  }

 private:
  static bool device_size(uint8_t n) { return n == 1 || n == 2 || n == 4 || n == 8; }
  // A piece of an odd size (a page split) goes to the device byte by byte.
  uint64_t device_read(const Piece& p) {
    uint64_t off = p.gpa - w_.gpa;
    if (device_size(p.n)) return w_.device->mmio_read(off, p.n);
    uint64_t v = 0;
    for (unsigned k = 0; k < p.n; ++k) v |= (w_.device->mmio_read(off + k, 1) & 0xFF) << (8 * k);
    return v;
  }
  void device_write(const Piece& p, uint64_t v) {
    uint64_t off = p.gpa - w_.gpa;
    uint64_t masked = p.n >= 8 ? v : v & ((1ull << (8 * p.n)) - 1);
    if (device_size(p.n)) return w_.device->mmio_write(off, p.n, masked);
    for (unsigned k = 0; k < p.n; ++k) w_.device->mmio_write(off + k, 1, (v >> (8 * k)) & 0xFF);
  }

  const VcpuState& s_;
  CpuMode mode_;
  GuestRam& ram_;
  MmioWindow& w_;

 public:
  uint64_t done_;
};

// MOVS/STOS touching the window, element by element (SDM 2 MOVS/STOS, REP).
Emulation emulate_string(const VcpuState& s, CpuMode mode, const Access& a, arch::Gprs& regs, GuestRam& ram,
                      MmioWindow& w) {
  const uint64_t mask = a.address_size == 8 ? ~0ull : a.address_size == 4 ? 0xFFFFFFFFull : 0xFFFFull;
  const uint64_t step = a.backward ? 0 - uint64_t{a.size} : uint64_t{a.size};
  const uint64_t count = a.count < kMaxStringElementsPerExit ? a.count : kMaxStringElementsPerExit;
  const bool ac = s.rflags & kRflagsAc;
  const Accessor rd{AccessKind::Read, s.cpl, ac}, wr{AccessKind::Write, s.cpl, ac};
  const uint64_t rdi = regs.rdi, rsi = regs.rsi;
  StringRun run(s, mode, ram, w, 0);
  Emulation pending{};
  bool have_pending = false;
  uint64_t done = 0;
  for (; done < count; ++done) {
    run.done_ = done;
    Element src, dst;
    uint64_t value = a.value;
    if (a.string == StringOp::Movs) {
      uint64_t src_la = linear(s, mode, a.segment, (rsi + step * done) & mask);
      StepResult r = run.translate(src_la, a.size, rd, a.segment, src);
      if (r.step == Step::Fault || r.step == Step::Broken) { pending = r.fault; have_pending = true; break; }
      if (r.step == Step::Outside) break;
    }
    uint64_t dst_la = linear(s, mode, Segment::Es, (rdi + step * done) & mask);
    StepResult r = run.translate(dst_la, a.size, wr, Segment::Es, dst);
    if (r.step == Step::Fault || r.step == Step::Broken) { pending = r.fault; have_pending = true; break; }
    if (r.step == Step::Outside) break;
    // An element with no byte in the window is plain memory: the CPU does
    // it itself when the guest re-executes the instruction.
    if (!dst.any_mmio() && !(a.string == StringOp::Movs && src.any_mmio())) break;
    if (a.string == StringOp::Movs) value = run.read(src);
    run.write(dst, value);
    ++w.accesses;
  }
  if (done > 0) advance_string(a, regs, done);
  const uint64_t rip_next = next_rip(s.rip, a.length, mode);
  if (have_pending) {
    // A #PF/#GP at element `done`: the registers say which (SDM 2 REP:
    // "a fault ... leaves the registers for the interrupted iteration").
    // A broken walk after progress: resume, the next exit reports it.
    if (pending.outcome == Outcome::Stop && done > 0) {
      Emulation r;
      r.outcome = Outcome::Partial;
      r.rip = s.rip;
      r.elements = done;
      return r;
    }
    pending.rip = s.rip;
    return pending;
  }
  Emulation r;
  r.elements = done;
  if (done == 0 && a.count != 0) return stop(StopReason::NoProgress, linear(s, mode, Segment::Es, rdi & mask));
  const bool finished = !a.rep || done == a.count;
  r.outcome = finished ? Outcome::Done : Outcome::Partial;
  r.rip = finished ? rip_next : s.rip;
  return r;
}
}  // namespace

const char* describe(StopReason r) {
  switch (r) {
    case StopReason::None: return "none";
    case StopReason::EventDelivery: return "event delivery (IDT, GDT, TSS or stack) touched the region";
    case StopReason::FetchFromMmio: return "instruction fetch from the region";
    case StopReason::FetchFailed: return "the instruction cannot be fetched (tables or code outside its RAM)";
    case StopReason::PagingBroken: return "a guest page walk left its RAM or its paging mode is invalid";
    case StopReason::NoProgress: return "string instruction with no element that can be done here";
    case StopReason::PastWindowEnd: return "an access that runs past the end of the region";
  }
  return "?";
}

Emulation emulate_mmio(const VcpuState& s, const MmioFault& fault, arch::Gprs& regs, GuestRam& ram, MmioWindow& w) {
  // The CPU's own accesses while delivering an event (SDM 3C §28.2.4) are
  // not an instruction's: nothing at RIP to emulate.
  if (fault.during_event_delivery) return stop(StopReason::EventDelivery, 0);
  if (fault.fetch) return stop(StopReason::FetchFromMmio, 0);
  const CpuMode mode = mode_of(s);
  const bool ac = s.rflags & kRflagsAc;
  // Fetch up to 15 bytes through the guest's own page tables with the
  // rights of an instruction fetch; the instruction may straddle two pages.
  const uint64_t pc = linear(s, mode, Segment::Cs, s.rip);
  const Accessor fetch{AccessKind::Fetch, s.cpl, ac};
  uint8_t bytes[kMaxInstructionLength];
  size_t avail = 0;
  WalkStatus fetch_fault = WalkStatus::Ok;
  uint64_t fetch_fault_la = 0;
  while (avail < sizeof bytes) {
    uint64_t at = pc + avail;
    if (mode != CpuMode::Long64) at &= 0xFFFFFFFFull;
    WalkResult wr = translate_guest_access(s.paging, at, fetch, GuestMemoryReader{read_entry, &ram});
    if (wr.status != WalkStatus::Ok) {
      fetch_fault = wr.status;
      fetch_fault_la = at;
      break;
    }
    const size_t in_page = kPage - (at & (kPage - 1));
    const size_t want = in_page < sizeof bytes - avail ? in_page : sizeof bytes - avail;
    size_t got = 0;
    while (got < want && ram.read(wr.gpa + got, &bytes[avail + got], 1)) ++got;
    avail += got;
    if (got < want) break;  // the code runs out of guest RAM
  }
  if (avail == 0) {
    if (is_page_fault(fetch_fault)) return page_fault(s, fetch_fault, fetch, fetch_fault_la, 0);
    return stop(StopReason::FetchFailed, pc);
  }
  Emulation out{};
  const auto dec = decode(bytes, avail, mode, regs, s.rflags);
  if (dec.status == Status::Truncated && is_page_fault(fetch_fault))
    return page_fault(s, fetch_fault, fetch, fetch_fault_la, 0);  // the rest of it is on a page the guest cannot fetch
  if (dec.status == Status::Truncated && fetch_fault != WalkStatus::Ok) return stop(StopReason::FetchFailed, pc);
  if (dec.status != Status::Ok) {
    out = inject(kVectorUd, false, 0, pc, 0);
    out.undecodable = true;
    out.rip = s.rip;
    return out;
  }
  const Access& a = dec.access;
  Direction dir;
  if (!mmio_direction(a, fault.write ? FaultKind::Write : FaultKind::Read, dir)) {
    out.outcome = Outcome::Retry;  // the instruction changed since the fault: let it fault again
    out.rip = s.rip;
    return out;
  }
  if (a.string != StringOp::None) return emulate_string(s, mode, a, regs, ram, w);
  // A single access: the CPU has checked the guest's page rights already
  // (the EPT violation comes after the guest's own translation, SDM 3C
  // §28.2.3.2), and the exit gives its guest-physical address.
  const uint64_t off = fault.gpa - w.gpa;
  // Found by fuzz_mmio_emulator: a MOV whose last bytes lie beyond the
  // region (e.g. 4 bytes at its last 2) must not reach the device with an
  // offset + size past its end (the TIS/CRB models index their registers
  // by it). No device answers for the part outside: the guest is stopped.
  if (off >= w.size || a.size > w.size - off) return stop(StopReason::PastWindowEnd, fault.gpa);
  ++w.accesses;
  if (dir == Direction::Read) complete_read(a, regs, w.device->mmio_read(off, a.size));
  else w.device->mmio_write(off, a.size, a.value);
  out.outcome = Outcome::Done;
  out.rip = next_rip(s.rip, a.length, mode);
  out.elements = 1;
  return out;
}

}  // namespace mamori::emulate
