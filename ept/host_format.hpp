// The VMM's own page tables: IA-32e 4-level paging (SDM Vol. 3A §4.5,
// entry layouts in §4.5.4; access rights §4.6; PAT §11.12).
#pragma once

#include <stdint.h>

#include "ept/bits.hpp"
#include "ept/types.hpp"

namespace mamori::ept {

struct HostBits {
  static constexpr Bit present{0};
  static constexpr Bit writable{1};    // R/W
  static constexpr Bit user{2};        // U/S
  static constexpr Bit pwt{3};         // PAT index bit 0
  static constexpr Bit pcd{4};         // PAT index bit 1
  static constexpr Bit accessed{5};
  static constexpr Bit dirty{6};       // leaves only
  static constexpr Bit large{7};       // PS in a PDPTE/PDE
  static constexpr Bit pat_4k{7};      // PAT index bit 2 in a 4 KiB PTE
  static constexpr Bit global{8};      // leaves only, with CR4.PGE
  static constexpr Bit pat_large{12};  // PAT index bit 2 in a 2 MiB/1 GiB leaf
  static constexpr Bit no_exec{63};    // XD, with IA32_EFER.NXE
};

// The PAT layout the VMM programs into IA32_PAT (MSR 277H) and that this
// format's memory types assume (SDM 3A §11.12.2, §11.12.4). Indices 0..3
// equal the power-on default (WB, WT, UC-, UC), so mappings made before
// IA32_PAT is written already get WB/WT/UC right; 4 and 5 add WC and WP.
struct HostPat {
  static constexpr uint8_t kUcMinus = 7;   // PAT-only encoding, never produced here
  static constexpr uint8_t kLayout[8] = {
      static_cast<uint8_t>(MemType::wb), static_cast<uint8_t>(MemType::wt), kUcMinus,
      static_cast<uint8_t>(MemType::uc), static_cast<uint8_t>(MemType::wc), static_cast<uint8_t>(MemType::wp),
      kUcMinus, static_cast<uint8_t>(MemType::uc)};

  static constexpr uint64_t msr_value() {
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= uint64_t{kLayout[i]} << (8 * i);
    return v;
  }
  static constexpr unsigned index_of(MemType t) {
    for (unsigned i = 0; i < 8; ++i)
      if (kLayout[i] == static_cast<uint8_t>(t)) return i;
    return 3;   // unreachable for valid types; UC is the safe answer
  }
  static constexpr MemType type_at(unsigned index) {
    const uint8_t raw = kLayout[index & 7];
    return raw == kUcMinus ? MemType::uc : static_cast<MemType>(raw);
  }
};
inline constexpr uint64_t kHostPatMsr = HostPat::msr_value();
static_assert(kHostPatMsr == 0x0007050100070406ull);

struct HostFormat {
  static constexpr const char* kName = "x86-64 paging";
  // Linear addresses must be canonical: bits 63:47 all equal (SDM 3A §4.5).
  static constexpr bool kCanonical = true;

  static constexpr bool present(uint64_t e) { return HostBits::present.in(e); }

  static constexpr bool is_leaf(uint64_t e, unsigned level) {
    return present(e) && (level == 0 || HostBits::large.in(e));
  }

  // Non-leaf entries grant write and user access and leave execute allowed;
  // the leaf decides (rights combine across levels, SDM 3A §4.6.1).
  static constexpr uint64_t table_entry(uint64_t phys) {
    return (phys & address_mask(kPageShift)) | HostBits::present.mask() | HostBits::writable.mask() |
           HostBits::user.mask();
  }
  static constexpr uint64_t table_phys(uint64_t e) { return e & address_mask(kPageShift); }

  static constexpr uint64_t leaf_entry(uint64_t phys, const Attr& a, unsigned level) {
    const unsigned pat = HostPat::index_of(a.type);
    const Bit pat_hi = level == 0 ? HostBits::pat_4k : HostBits::pat_large;
    return (phys & address_mask(level_shift(level))) | HostBits::present.mask() |
           HostBits::writable.put(has(a.perm, Perm::write)) | HostBits::user.put(has(a.perm, Perm::user)) |
           HostBits::global.put(has(a.perm, Perm::global)) | HostBits::no_exec.put(!has(a.perm, Perm::exec)) |
           HostBits::pwt.put(pat & 1) | HostBits::pcd.put(pat & 2) | pat_hi.put(pat & 4) |
           HostBits::large.put(level > 0);
  }
  static constexpr uint64_t leaf_phys(uint64_t e, unsigned level) {
    return e & address_mask(level_shift(level));
  }
  static constexpr Attr leaf_attr(uint64_t e, unsigned level) {
    Perm p = Perm::read;   // a present page is always readable
    if (HostBits::writable.in(e)) p = p | Perm::write;
    if (!HostBits::no_exec.in(e)) p = p | Perm::exec;
    if (HostBits::user.in(e)) p = p | Perm::user;
    if (HostBits::global.in(e)) p = p | Perm::global;
    const Bit pat_hi = level == 0 ? HostBits::pat_4k : HostBits::pat_large;
    const unsigned pat = (HostBits::pwt.in(e) ? 1u : 0u) | (HostBits::pcd.in(e) ? 2u : 0u) |
                         (pat_hi.in(e) ? 4u : 0u);
    return Attr{p, HostPat::type_at(pat), false};
  }
  static constexpr uint64_t accessed_dirty(uint64_t e) {
    return e & (HostBits::accessed.mask() | HostBits::dirty.mask());
  }

  static constexpr Status check(const Attr& a, const Options& o) {
    // Present implies readable: there is no write-only or execute-only page.
    if (!has(a.perm, Perm::read)) return Status::bad_attr;
    if (a.ignore_pat) return Status::bad_attr;   // an EPT-only bit
    if (!is_valid_memtype(static_cast<uint8_t>(a.type))) return Status::bad_attr;
    if (o.enforce_wx && has(a.perm, Perm::write) && has(a.perm, Perm::exec)) return Status::wx_violation;
    return Status::ok;
  }

  static constexpr bool leaf_allowed(unsigned level, const Options& o) {
    return level == 0 || (level == 1 && o.page_2m) || (level == 2 && o.page_1g);
  }
};

}  // namespace mamori::ept
