#include "vmm/emulate/guest_paging.hpp"

namespace mamori::emulate {
namespace {
// Control bits (SDM 3A §2.5, §4.1.1).
constexpr uint64_t kCr0Pe = 1ull << 0, kCr0Wp = 1ull << 16, kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pse = 1ull << 4, kCr4Pae = 1ull << 5, kCr4La57 = 1ull << 12, kCr4Smep = 1ull << 20,
                   kCr4Smap = 1ull << 21;
constexpr uint64_t kEferLma = 1ull << 10, kEferNxe = 1ull << 11;
// Entry bits (SDM 3A Tables 4-4..4-20).
constexpr uint64_t kP = 1ull << 0, kRw = 1ull << 1, kUs = 1ull << 2, kPs = 1ull << 7, kXd = 1ull << 63;
constexpr uint64_t kAddr52 = 0x000FFFFFFFFFF000ull;
constexpr uint64_t k4K = 1ull << 12, k2M = 1ull << 21, k4M = 1ull << 22, k1G = 1ull << 30;
// #PF error code (SDM 3A §4.7, Figure 4-12).
constexpr uint32_t kPfPresent = 1u << 0, kPfWrite = 1u << 1, kPfUser = 1u << 2, kPfRsvd = 1u << 3,
                   kPfFetch = 1u << 4;

bool read(const GuestMemoryReader& m, uint64_t gpa, unsigned bytes, uint64_t& v) {
  return m.read && m.read(m.ctx, gpa, bytes, &v);
}

WalkResult fail(WalkStatus s) {
  WalkResult r;
  r.status = s;
  return r;
}

// The rights accumulated along a walk (§4.6: every entry controlling the
// translation must allow it).
struct Rights {
  bool w = true, u = true, x = true;
  void add(uint64_t e, bool nxe) {
    w = w && (e & kRw);
    u = u && (e & kUs);
    if (nxe && (e & kXd)) x = false;
  }
};

WalkResult leaf(uint64_t base, uint64_t size, uint64_t linear, Rights r) {
  WalkResult w;
  w.status = WalkStatus::Ok;
  w.page_size = size;
  w.gpa = (base & ~(size - 1)) | (linear & (size - 1));
  w.writable = r.w;
  w.user = r.u;
  w.executable = r.x;
  return w;
}

// 32-bit paging (SDM 3A §4.3): 10/10/12 bits; PDE.PS with CR4.PSE = 4 MiB
// (bits 39:32 of the frame from PDE bits 20:13, PSE-36). No XD.
WalkResult walk32(const GuestPagingState& s, uint32_t la, const GuestMemoryReader& m) {
  uint64_t pde;
  if (!read(m, (s.cr3 & 0xFFFFF000ull) + ((la >> 22) & 0x3FF) * 4, 4, pde)) return fail(WalkStatus::Unreadable);
  if (!(pde & kP)) return fail(WalkStatus::NotPresent);
  Rights r;
  r.add(pde, false);
  if ((pde & kPs) && (s.cr4 & kCr4Pse)) {
    if (pde & (1ull << 21)) return fail(WalkStatus::ReservedBits);  // bit 21 reserved
    uint64_t base = (pde & 0xFFC00000ull) | ((pde >> 13) & 0xFFull) << 32;
    return leaf(base, k4M, la, r);
  }
  uint64_t pte;
  if (!read(m, (pde & 0xFFFFF000ull) + ((la >> 12) & 0x3FF) * 4, 4, pte)) return fail(WalkStatus::Unreadable);
  if (!(pte & kP)) return fail(WalkStatus::NotPresent);
  r.add(pte, false);
  return leaf(pte & 0xFFFFF000ull, k4K, la, r);
}

// One 9-bit level of PAE / IA-32e paging.
struct Level {
  unsigned shift;
  bool may_be_large;
  uint64_t large_size;
};

WalkResult walk_levels(uint64_t table, uint64_t la, const Level* levels, unsigned n, bool nxe,
                       const GuestMemoryReader& m) {
  Rights r;
  for (unsigned i = 0; i < n; ++i) {
    uint64_t e;
    if (!read(m, table + ((la >> levels[i].shift) & 0x1FF) * 8, 8, e)) return fail(WalkStatus::Unreadable);
    if (!(e & kP)) return fail(WalkStatus::NotPresent);
    // XD is reserved without EFER.NXE (SDM 3A §4.4.2, §4.5.4).
    if (!nxe && (e & kXd)) return fail(WalkStatus::ReservedBits);
    r.add(e, nxe);
    if (levels[i].may_be_large && (e & kPs)) {
      // Large-page frames: bits below the page size other than PAT (bit 12)
      // are reserved (SDM 3A Tables 4-9, 4-17).
      uint64_t frame = e & kAddr52;
      if (frame & (levels[i].large_size - 1) & ~(1ull << 12)) return fail(WalkStatus::ReservedBits);
      return leaf(frame, levels[i].large_size, la, r);
    }
    table = e & kAddr52;
  }
  return leaf(table, k4K, la, r);
}
}  // namespace

const char* describe(WalkStatus s) {
  switch (s) {
    case WalkStatus::Ok: return "ok";
    case WalkStatus::NotPresent: return "not present in the guest's page tables";
    case WalkStatus::ReservedBits: return "reserved bits set in a guest paging entry";
    case WalkStatus::Denied: return "denied by the guest's page permissions";
    case WalkStatus::Unreadable: return "a guest paging structure lies outside its RAM";
    case WalkStatus::BadMode: return "inconsistent paging mode (CR0/CR4/EFER)";
  }
  return "?";
}

WalkResult translate_guest_linear(const GuestPagingState& s, uint64_t la, const GuestMemoryReader& m) {
  if (!(s.cr0 & kCr0Pg)) {
    WalkResult r = leaf(la & 0xFFFFFFFFull, k4K, la & 0xFFFFFFFFull, Rights{});  // linear = physical (32 bits)
    return r;
  }
  if (!(s.cr0 & kCr0Pe)) return fail(WalkStatus::BadMode);
  const bool nxe = s.efer & kEferNxe;
  if (s.efer & kEferLma) {
    if (!(s.cr4 & kCr4Pae)) return fail(WalkStatus::BadMode);
    if (s.cr4 & kCr4La57) return fail(WalkStatus::BadMode);  // 5-level paging is not walked
    static constexpr Level k4Level[] = {{39, false, 0}, {30, true, k1G}, {21, true, k2M}, {12, false, 0}};
    return walk_levels(s.cr3 & kAddr52, la, k4Level, 4, nxe, m);
  }
  if (s.cr4 & kCr4Pae) {
    // PAE (SDM 3A §4.4): CR3[31:5] points at 4 PDPTEs; the processor loads
    // them at MOV CR3, here they are read from memory (same result unless
    // the guest rewrote them since, which a paging guest must not rely on).
    // PDPTEs carry no R/W, U/S or XD (Table 4-8).
    uint32_t la32 = static_cast<uint32_t>(la);
    uint64_t pdpte;
    if (!read(m, (s.cr3 & 0xFFFFFFE0ull) + ((la32 >> 30) & 3) * 8, 8, pdpte)) return fail(WalkStatus::Unreadable);
    if (!(pdpte & kP)) return fail(WalkStatus::NotPresent);
    if (pdpte & kXd) return fail(WalkStatus::ReservedBits);
    static constexpr Level kPae[] = {{21, true, k2M}, {12, false, 0}};
    return walk_levels(pdpte & kAddr52, la32, kPae, 2, nxe, m);
  }
  return walk32(s, static_cast<uint32_t>(la), m);
}

bool access_allowed(const GuestPagingState& s, const WalkResult& w, const Accessor& a) {
  if (w.status != WalkStatus::Ok) return false;
  if (!(s.cr0 & kCr0Pg)) return true;  // no paging: no page rights
  const bool user_access = a.cpl == 3;
  switch (a.kind) {
    case AccessKind::Fetch:
      // §4.6.1 instruction fetches: user mode only from user addresses;
      // supervisor mode not from user addresses under SMEP; XD forbids both.
      if (!w.executable) return false;
      if (user_access) return w.user;
      return !(w.user && (s.cr4 & kCr4Smep));
    case AccessKind::Read:
      if (user_access) return w.user;
      // SMAP: explicit supervisor reads of user addresses need RFLAGS.AC.
      return !(w.user && (s.cr4 & kCr4Smap) && !a.rflags_ac);
    case AccessKind::Write:
      if (user_access) return w.user && w.writable;
      if (w.user && (s.cr4 & kCr4Smap) && !a.rflags_ac) return false;
      // Supervisor writes ignore R/W unless CR0.WP.
      return w.writable || !(s.cr0 & kCr0Wp);
  }
  return false;
}

WalkResult translate_guest_access(const GuestPagingState& s, uint64_t linear, const Accessor& a,
                                  const GuestMemoryReader& mem) {
  WalkResult w = translate_guest_linear(s, linear, mem);
  if (w.status == WalkStatus::Ok && !access_allowed(s, w, a)) w.status = WalkStatus::Denied;
  return w;
}

uint32_t page_fault_error_code(const GuestPagingState& s, WalkStatus st, const Accessor& a) {
  uint32_t ec = 0;
  if (st == WalkStatus::Denied || st == WalkStatus::ReservedBits) ec |= kPfPresent;
  if (st == WalkStatus::ReservedBits) ec |= kPfRsvd;
  if (a.kind == AccessKind::Write) ec |= kPfWrite;
  if (a.cpl == 3) ec |= kPfUser;
  // I/D: a fetch, reported only with SMEP or with PAE/4-level and NXE.
  if (a.kind == AccessKind::Fetch && ((s.cr4 & kCr4Smep) || ((s.cr4 & kCr4Pae) && (s.efer & kEferNxe))))
    ec |= kPfFetch;
  return ec;
}

}  // namespace mamori::emulate
