#include "guest_paging.hpp"

namespace mamori::core {
namespace {
// Control bits (SDM 3A §2.5, §4.1.1).
constexpr uint64_t kCr0Pe = 1ull << 0, kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pse = 1ull << 4, kCr4Pae = 1ull << 5;
constexpr uint64_t kEferLma = 1ull << 10;
// Entry bits (SDM 3A Tables 4-4..4-20).
constexpr uint64_t kP = 1ull << 0, kRw = 1ull << 1, kPs = 1ull << 7;
constexpr uint64_t kAddr52 = 0x000FFFFFFFFFF000ull;
constexpr uint64_t k4K = 1ull << 12, k2M = 1ull << 21, k4M = 1ull << 22, k1G = 1ull << 30;

bool read(const GuestMemoryReader& m, uint64_t gpa, unsigned bytes, uint64_t& v) {
  return m.read && m.read(m.ctx, gpa, bytes, &v);
}

WalkResult fail(WalkStatus s) {
  WalkResult r;
  r.status = s;
  return r;
}

WalkResult leaf(uint64_t base, uint64_t size, uint64_t linear, bool writable) {
  WalkResult r;
  r.status = WalkStatus::Ok;
  r.page_size = size;
  r.gpa = (base & ~(size - 1)) | (linear & (size - 1));
  r.writable = writable;
  return r;
}

// 32-bit paging (SDM 3A §4.3): 10/10/12 bits; PDE.PS with CR4.PSE = 4 MiB
// (bits 39:32 of the frame from PDE bits 20:13, PSE-36).
WalkResult walk32(const GuestPagingState& s, uint32_t la, const GuestMemoryReader& m) {
  uint64_t pde;
  if (!read(m, (s.cr3 & 0xFFFFF000ull) + ((la >> 22) & 0x3FF) * 4, 4, pde)) return fail(WalkStatus::Unreadable);
  if (!(pde & kP)) return fail(WalkStatus::NotPresent);
  bool w = pde & kRw;
  if ((pde & kPs) && (s.cr4 & kCr4Pse)) {
    if (pde & (1ull << 21)) return fail(WalkStatus::ReservedBits);  // bit 21 reserved
    uint64_t base = (pde & 0xFFC00000ull) | ((pde >> 13) & 0xFFull) << 32;
    return leaf(base, k4M, la, w);
  }
  uint64_t pte;
  if (!read(m, (pde & 0xFFFFF000ull) + ((la >> 12) & 0x3FF) * 4, 4, pte)) return fail(WalkStatus::Unreadable);
  if (!(pte & kP)) return fail(WalkStatus::NotPresent);
  return leaf(pte & 0xFFFFF000ull, k4K, la, w && (pte & kRw));
}

// One 9-bit level of PAE / IA-32e paging.
struct Level {
  unsigned shift;
  bool may_be_large;
  uint64_t large_size;
};

WalkResult walk_levels(uint64_t table, uint64_t la, const Level* levels, unsigned n, bool w,
                       const GuestMemoryReader& m) {
  for (unsigned i = 0; i < n; ++i) {
    uint64_t e;
    if (!read(m, table + ((la >> levels[i].shift) & 0x1FF) * 8, 8, e)) return fail(WalkStatus::Unreadable);
    if (!(e & kP)) return fail(WalkStatus::NotPresent);
    w = w && (e & kRw);
    if (levels[i].may_be_large && (e & kPs)) {
      // Large-page frames: bits below the page size other than PAT (bit 12)
      // are reserved (SDM 3A Tables 4-9, 4-17).
      uint64_t frame = e & kAddr52;
      if (frame & (levels[i].large_size - 1) & ~(1ull << 12)) return fail(WalkStatus::ReservedBits);
      return leaf(frame, levels[i].large_size, la, w);
    }
    table = e & kAddr52;
  }
  return leaf(table, k4K, la, w);
}
}  // namespace

const char* describe(WalkStatus s) {
  switch (s) {
    case WalkStatus::Ok: return "ok";
    case WalkStatus::NotPresent: return "not present in the guest's page tables";
    case WalkStatus::ReservedBits: return "reserved bits set in a guest paging entry";
    case WalkStatus::Unreadable: return "a guest paging structure lies outside its RAM";
    case WalkStatus::BadMode: return "inconsistent paging mode (CR0/CR4/EFER)";
  }
  return "?";
}

WalkResult translate_guest_linear(const GuestPagingState& s, uint64_t la, const GuestMemoryReader& m) {
  if (!(s.cr0 & kCr0Pg)) {
    WalkResult r = leaf(la & 0xFFFFFFFFull, k4K, la & 0xFFFFFFFFull, true);  // linear = physical (32 bits)
    return r;
  }
  if (!(s.cr0 & kCr0Pe)) return fail(WalkStatus::BadMode);
  if (s.efer & kEferLma) {
    if (!(s.cr4 & kCr4Pae)) return fail(WalkStatus::BadMode);
    static constexpr Level k4Level[] = {{39, false, 0}, {30, true, k1G}, {21, true, k2M}, {12, false, 0}};
    return walk_levels(s.cr3 & kAddr52, la, k4Level, 4, true, m);
  }
  if (s.cr4 & kCr4Pae) {
    // PAE (SDM 3A §4.4): CR3[31:5] points at 4 PDPTEs; the processor loads
    // them at MOV CR3, here they are read from memory (same result unless
    // the guest rewrote them since, which a paging guest must not rely on).
    uint32_t la32 = static_cast<uint32_t>(la);
    uint64_t pdpte;
    if (!read(m, (s.cr3 & 0xFFFFFFE0ull) + ((la32 >> 30) & 3) * 8, 8, pdpte)) return fail(WalkStatus::Unreadable);
    if (!(pdpte & kP)) return fail(WalkStatus::NotPresent);
    static constexpr Level kPae[] = {{21, true, k2M}, {12, false, 0}};
    return walk_levels(pdpte & kAddr52, la32, kPae, 2, true, m);
  }
  return walk32(s, static_cast<uint32_t>(la), m);
}

}  // namespace mamori::core
