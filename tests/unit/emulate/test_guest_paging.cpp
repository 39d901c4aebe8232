// Guest page walks over a synthetic guest memory, one test per paging
// mode and page size, plus every failure (SDM 3A ch. 4).
#include <catch.hpp>
#include <stdint.h>
#include <cstring>
#include <string>
#include <vector>

#include "vmm/emulate/guest_paging.hpp"

using namespace mamori::emulate;

namespace {
constexpr uint64_t kPe = 1, kPg = 1ull << 31, kPse = 1ull << 4, kPae = 1ull << 5, kLma = 1ull << 10;
constexpr uint64_t P = 1, RW = 2, PS = 0x80;

struct Memory {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(16 << 20);  // 16 MiB of guest RAM
  void put32(uint64_t gpa, uint32_t v) { std::memcpy(&bytes[gpa], &v, 4); }
  void put64(uint64_t gpa, uint64_t v) { std::memcpy(&bytes[gpa], &v, 8); }
  static bool read(void* ctx, uint64_t gpa, unsigned n, uint64_t* out) {
    auto* m = static_cast<Memory*>(ctx);
    if (gpa + n > m->bytes.size() || gpa + n < gpa) return false;
    *out = 0;
    std::memcpy(out, &m->bytes[gpa], n);
    return true;
  }
  GuestMemoryReader reader() { return {read, this}; }
};
}  // namespace

TEST_CASE("paging off: linear is physical, truncated to 32 bits") {
  Memory m;
  WalkResult r = translate_guest_linear({kPe, 0, 0, 0}, 0x1'0012'3456ull, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0x123456);
}

TEST_CASE("32-bit paging: 4 KiB and 4 MiB pages, not-present and reserved") {
  Memory m;
  const uint64_t cr3 = 0x10000, pt = 0x11000;
  m.put32(cr3 + 1 * 4, pt | P | RW);                   // 0x00400000-0x007FFFFF via a PT
  m.put32(pt + 5 * 4, 0x00ABC000 | P);                 // 0x00405000 -> 0xABC000, read-only
  m.put32(cr3 + 2 * 4, 0x00C00000 | P | RW | PS);      // 0x00800000 4 MiB page -> 0xC00000
  GuestPagingState s{kPe | kPg, cr3, kPse, 0};
  WalkResult r = translate_guest_linear(s, 0x00405123, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0xABC123);
  CHECK(r.page_size == 4096);
  CHECK_FALSE(r.writable);
  r = translate_guest_linear(s, 0x00812345, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0xC12345);
  CHECK(r.page_size == (4u << 20));
  CHECK(r.writable);
  // Without CR4.PSE the PS bit is ignored: the PDE points to a page table.
  s.cr4 = 0;
  CHECK(translate_guest_linear(s, 0x00812345, m.reader()).gpa != 0xC12345);
  s.cr4 = kPse;
  CHECK(translate_guest_linear(s, 0x00C00000, m.reader()).status == WalkStatus::NotPresent);
  m.put32(cr3 + 3 * 4, 0x00C00000 | P | PS | (1u << 21));
  CHECK(translate_guest_linear(s, 0x00C00000, m.reader()).status == WalkStatus::ReservedBits);
  m.put32(cr3 + 4 * 4, 0x7FFFF000 | P);  // PT outside guest RAM
  CHECK(translate_guest_linear(s, 0x01000000, m.reader()).status == WalkStatus::Unreadable);
}

TEST_CASE("PAE paging: PDPTE, 2 MiB and 4 KiB pages") {
  Memory m;
  const uint64_t cr3 = 0x20020, pd = 0x21000, pt = 0x22000;
  m.put64(cr3 + 1 * 8, pd | P);                        // 1-2 GiB
  m.put64(pd + 3 * 8, 0x00600000 | P | RW | PS);        // 0x40600000 2 MiB -> 0x600000
  m.put64(pd + 4 * 8, pt | P | RW);
  m.put64(pt + 7 * 8, 0x00777000 | P | RW);             // 0x40807000 -> 0x777000
  GuestPagingState s{kPe | kPg, cr3, kPae, 0};
  WalkResult r = translate_guest_linear(s, 0x40612345, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0x612345);
  CHECK(r.page_size == (2u << 20));
  r = translate_guest_linear(s, 0x40807abc, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0x777abc);
  CHECK(translate_guest_linear(s, 0x00001000, m.reader()).status == WalkStatus::NotPresent);  // PDPTE 0 absent
  m.put64(pd + 5 * 8, 0x00610000 | P | PS);  // 2 MiB frame not 2 MiB aligned: reserved bits
  CHECK(translate_guest_linear(s, 0x40A00000, m.reader()).status == WalkStatus::ReservedBits);
}

TEST_CASE("4-level paging: 1 GiB, 2 MiB, 4 KiB pages and upper-half addresses") {
  Memory m;
  const uint64_t pml4 = 0x30000, pdpt = 0x31000, pd = 0x32000, pt = 0x33000, pdpt_hi = 0x34000;
  m.put64(pml4 + 0 * 8, pdpt | P | RW);
  m.put64(pdpt + 1 * 8, 0x40000000ull | P | RW | PS);   // 1-2 GiB: a 1 GiB page at 1 GiB (outside RAM is fine for the walk)
  m.put64(pdpt + 0 * 8, pd | P | RW);
  m.put64(pd + 2 * 8, 0x00800000 | P | PS);              // 4-6 MiB -> 8 MiB, read-only
  m.put64(pd + 0 * 8, pt | P | RW);
  m.put64(pt + 0x10 * 8, 0x00DEF000 | P | RW);           // 0x10000 -> 0xDEF000
  m.put64(pml4 + 511 * 8, pdpt_hi | P | RW);
  m.put64(pdpt_hi + 510 * 8, 0x00000000 | P | RW | PS);  // 0xFFFFFFFF80000000 -> 0 (1 GiB)
  GuestPagingState s{kPe | kPg, pml4, kPae, kLma | (1u << 8)};
  WalkResult r = translate_guest_linear(s, 0x10abc, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0xDEFabc);
  r = translate_guest_linear(s, 0x00456789, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0x856789);
  CHECK_FALSE(r.writable);
  r = translate_guest_linear(s, 0x40001234, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0x40001234);
  CHECK(r.page_size == (1ull << 30));
  r = translate_guest_linear(s, 0xFFFFFFFF80123456ull, m.reader());
  REQUIRE(r.status == WalkStatus::Ok);
  CHECK(r.gpa == 0x123456);
  s.cr4 = 0;  // IA-32e without PAE cannot exist
  CHECK(translate_guest_linear(s, 0x10abc, m.reader()).status == WalkStatus::BadMode);
}

TEST_CASE("paging without protection is refused; a reader that refuses everything is Unreadable") {
  Memory m;
  CHECK(translate_guest_linear({kPg, 0x1000, 0, 0}, 0, m.reader()).status == WalkStatus::BadMode);
  GuestMemoryReader none{nullptr, nullptr};
  CHECK(translate_guest_linear({kPe | kPg, 0x1000, 0, 0}, 0, none).status == WalkStatus::Unreadable);
  CHECK(std::string(describe(WalkStatus::NotPresent)).find("not present") != std::string::npos);
}

TEST_CASE("access rights (SDM 3A §4.6) and #PF error codes (§4.7)") {
  Memory m;
  constexpr uint64_t US = 4, XD = 1ull << 63, kWp = 1ull << 16, kSmep = 1ull << 20, kSmap = 1ull << 21,
                     kNxe = 1ull << 11;
  const uint64_t pml4 = 0x30000, pdpt = 0x31000, pd = 0x32000, pt = 0x33000;
  m.put64(pml4, pdpt | P | RW | US);
  m.put64(pdpt, pd | P | RW | US);
  m.put64(pd, pt | P | RW | US);
  m.put64(pt + 1 * 8, 0x100000 | P | RW);        // 0x1000: supervisor, writable
  m.put64(pt + 2 * 8, 0x101000 | P | US);        // 0x2000: user, read-only
  m.put64(pt + 3 * 8, 0x102000 | P | RW | US | XD);  // 0x3000: user, no execute
  GuestPagingState s{kPe | kPg, pml4, kPae, kLma | kNxe};
  auto rights = [&](uint64_t la, AccessKind k, uint8_t cpl, bool ac = false) {
    return translate_guest_access(s, la, Accessor{k, cpl, ac}, m.reader()).status;
  };
  WalkResult w = translate_guest_linear(s, 0x2000, m.reader());
  CHECK(w.user);
  CHECK_FALSE(w.writable);
  CHECK(w.executable);
  CHECK_FALSE(translate_guest_linear(s, 0x3000, m.reader()).executable);
  // U/S with CPL.
  CHECK(rights(0x1000, AccessKind::Read, 3) == WalkStatus::Denied);
  CHECK(rights(0x1000, AccessKind::Read, 0) == WalkStatus::Ok);
  CHECK(rights(0x2000, AccessKind::Read, 3) == WalkStatus::Ok);
  // R/W: user writes always need it, supervisor writes only with CR0.WP.
  CHECK(rights(0x2000, AccessKind::Write, 3) == WalkStatus::Denied);
  CHECK(rights(0x2000, AccessKind::Write, 0) == WalkStatus::Ok);
  s.cr0 |= kWp;
  CHECK(rights(0x2000, AccessKind::Write, 0) == WalkStatus::Denied);
  // SMAP: supervisor data accesses to user pages need RFLAGS.AC.
  s.cr4 |= kSmap;
  CHECK(rights(0x3000, AccessKind::Write, 0) == WalkStatus::Denied);
  CHECK(rights(0x3000, AccessKind::Write, 0, true) == WalkStatus::Ok);
  CHECK(rights(0x1000, AccessKind::Read, 0) == WalkStatus::Ok);
  // XD with NXE; SMEP for supervisor fetches from user pages.
  CHECK(rights(0x3000, AccessKind::Fetch, 3) == WalkStatus::Denied);
  CHECK(rights(0x2000, AccessKind::Fetch, 0) == WalkStatus::Ok);
  s.cr4 |= kSmep;
  CHECK(rights(0x2000, AccessKind::Fetch, 0) == WalkStatus::Denied);
  // Error codes: P, W/R, U/S, RSVD, I/D.
  CHECK(page_fault_error_code(s, WalkStatus::NotPresent, {AccessKind::Read, 0, false}) == 0x0);
  CHECK(page_fault_error_code(s, WalkStatus::Denied, {AccessKind::Write, 3, false}) == 0x7);
  CHECK(page_fault_error_code(s, WalkStatus::ReservedBits, {AccessKind::Read, 0, false}) == 0x9);
  CHECK(page_fault_error_code(s, WalkStatus::Denied, {AccessKind::Fetch, 0, false}) == 0x11);
  // XD is a reserved bit without NXE.
  s.efer &= ~kNxe;
  CHECK(translate_guest_linear(s, 0x3000, m.reader()).status == WalkStatus::ReservedBits);
  // Paging off: no page rights at all.
  GuestPagingState off{kPe, 0, 0, 0};
  CHECK(translate_guest_access(off, 0x1000, {AccessKind::Write, 3, false}, m.reader()).status == WalkStatus::Ok);
}
