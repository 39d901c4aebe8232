// Memory map normalisation: see memory_map.hpp.
#include "memory_map.hpp"

namespace mamori::core {
namespace {

using boot::MemoryType;

// One input descriptor, clipped to [0, kMaxPhysEnd). Returns false when the
// descriptor describes nothing usable (size 0, or entirely beyond the limit).
struct Span {
  uint64_t base, end;
  MemoryType type;
};

bool is_known(MemoryType t) {
  const uint32_t v = static_cast<uint32_t>(t);
  return v >= static_cast<uint32_t>(MemoryType::Usable) &&
         v <= static_cast<uint32_t>(MemoryType::Persistent);
}

class Inputs {
 public:
  Inputs(const boot::MemoryRegion* in, size_t n, const PhysRange* extra, size_t ne)
      : in_(in), n_(n), extra_(extra), ne_(ne) {}
  size_t count() const { return n_ + ne_; }

  // Fills `s` for input i; false if the input is ignored. `clipped` is set
  // when the range had to be cut at kMaxPhysEnd.
  bool get(size_t i, Span& s, bool* clipped = nullptr) const {
    uint64_t base, size;
    if (i < n_) {
      base = in_[i].base;
      size = in_[i].size;
      s.type = is_known(in_[i].type) ? in_[i].type : MemoryType::Reserved;
    } else {
      base = extra_[i - n_].base;
      size = extra_[i - n_].size;
      s.type = MemoryType::Loaded;
    }
    if (clipped) *clipped = false;
    if (size == 0 || base >= kMaxPhysEnd) return false;
    s.base = base;
    if (size > kMaxPhysEnd - base) {
      s.end = kMaxPhysEnd;
      if (clipped) *clipped = true;
    } else {
      s.end = base + size;
    }
    return true;
  }

 private:
  const boot::MemoryRegion* in_;
  size_t n_;
  const PhysRange* extra_;
  size_t ne_;
};

uint64_t align_up(uint64_t v) { return (v + kFrameSize - 1) & ~(kFrameSize - 1); }
uint64_t align_down(uint64_t v) { return v & ~(kFrameSize - 1); }

class Writer {
 public:
  Writer(PhysRegion* out, size_t cap) : out_(out), cap_(cap) {}

  // Appends [base, end) of `type`, merging with the pending region when it
  // continues it; the pending region is written out when something else comes.
  bool add(uint64_t base, uint64_t end, MemoryType type) {
    if (have_ && pending_.type == type && pending_.end == base) {
      pending_.end = end;
      return true;
    }
    if (!flush()) return false;
    pending_ = {base, end, type};
    have_ = true;
    return true;
  }

  bool flush() {
    if (!have_) return true;
    have_ = false;
    PhysRegion r = pending_;
    if (r.type == MemoryType::Usable) {
      // Only whole frames are usable; a partial frame shares bytes with
      // something else (or with nothing).
      r.base = align_up(r.base);
      r.end = align_down(r.end);
      if (r.base >= r.end) return true;
    }
    if (count_ == cap_) return false;
    out_[count_++] = r;
    return true;
  }

  size_t count() const { return count_; }

 private:
  PhysRegion* out_;
  size_t cap_;
  size_t count_ = 0;
  PhysRegion pending_{};
  bool have_ = false;
};

}  // namespace

uint32_t memory_type_rank(MemoryType t) {
  switch (t) {
    case MemoryType::Usable: return 0;
    case MemoryType::Persistent: return 1;
    case MemoryType::Loaded: return 2;
    case MemoryType::AcpiReclaim: return 3;  // tables must survive until parsed
    case MemoryType::AcpiNvs: return 4;
    case MemoryType::RuntimeServices: return 5;
    case MemoryType::Reserved: return 6;
    case MemoryType::Mmio: return 7;
    case MemoryType::Unusable: return 8;     // firmware saw errors: never touch
  }
  return 6;  // unknown values rank as Reserved
}

const char* memory_type_name(MemoryType t) {
  switch (t) {
    case MemoryType::Usable: return "usable";
    case MemoryType::Reserved: return "reserved";
    case MemoryType::AcpiReclaim: return "acpi-reclaim";
    case MemoryType::AcpiNvs: return "acpi-nvs";
    case MemoryType::Mmio: return "mmio";
    case MemoryType::Unusable: return "unusable";
    case MemoryType::RuntimeServices: return "runtime-services";
    case MemoryType::Loaded: return "loaded";
    case MemoryType::Persistent: return "persistent";
  }
  return "unknown";
}

const char* describe(MemoryMapError e) {
  switch (e) {
    case MemoryMapError::None: return "ok";
    case MemoryMapError::NullInput: return "memory map pointer is null but its count is not zero";
    case MemoryMapError::OutputFull: return "normalised memory map does not fit the output array";
  }
  return "unknown memory map error";
}

MemoryMapError normalize_memory_map(const boot::MemoryRegion* in, size_t in_count,
                                    const PhysRange* extra, size_t extra_count,
                                    PhysRegion* out, size_t out_capacity,
                                    size_t* out_count, MemoryMapStats* stats) {
  if (out_count) *out_count = 0;
  if (stats) *stats = {};
  if ((in == nullptr && in_count != 0) || (extra == nullptr && extra_count != 0) ||
      (out == nullptr && out_capacity != 0) || out_count == nullptr)
    return MemoryMapError::NullInput;

  const Inputs inputs(in, in_count, extra, extra_count);
  const size_t n = inputs.count();
  Span s;
  if (stats) {
    for (size_t i = 0; i < n; ++i) {
      bool clipped = false;
      if (!inputs.get(i, s, &clipped)) ++stats->ignored_descriptors;
      else if (clipped) ++stats->clipped_descriptors;
    }
  }

  // Sweep over the boundaries in increasing order. Between two consecutive
  // boundaries the set of covering descriptors is constant, so the type of
  // [cur, next) is decided by the descriptors covering `cur`.
  bool found = false;
  uint64_t cur = 0;
  for (size_t i = 0; i < n; ++i)
    if (inputs.get(i, s) && (!found || s.base < cur)) {
      cur = s.base;
      found = true;
    }
  Writer w(out, out_capacity);
  while (found) {
    uint64_t next = 0;
    bool have_next = false;
    bool covered = false;
    MemoryType type = MemoryType::Usable;
    for (size_t i = 0; i < n; ++i) {
      if (!inputs.get(i, s)) continue;
      if (s.base > cur && (!have_next || s.base < next)) next = s.base, have_next = true;
      if (s.end > cur && (!have_next || s.end < next)) next = s.end, have_next = true;
      if (s.base <= cur && cur < s.end) {
        if (!covered || memory_type_rank(s.type) > memory_type_rank(type)) type = s.type;
        covered = true;
      }
    }
    if (!have_next) break;  // cur is the last boundary
    if (covered && !w.add(cur, next, type)) return MemoryMapError::OutputFull;
    cur = next;
  }
  if (!w.flush()) return MemoryMapError::OutputFull;
  *out_count = w.count();
  return MemoryMapError::None;
}

}  // namespace mamori::core
