// Bit layouts of the two entry formats against the SDM tables, written out
// as literal numbers on purpose: these tests are the independent statement
// of where each bit lives.
#include <catch.hpp>

#include "ept/ept.hpp"

using namespace mamori::ept;

TEST_CASE("EPT leaf bits (SDM 3C 29.3.2)", "[ept][format]") {
  const uint64_t pa = 0x1234'5000ull;
  // 4 KiB page, read-only, WB: R=bit0, memtype 6 in bits 5:3.
  CHECK(EptFormat::leaf_entry(pa, Attr{kR, MemType::wb, false}, 0) == (pa | 0x1 | (6u << 3)));
  // RWX, UC, ignore-PAT (bit 6).
  CHECK(EptFormat::leaf_entry(pa, Attr{kRWX, MemType::uc, true}, 0) == (pa | 0x7 | (1u << 6)));
  // 2 MiB leaf: bit 7, and address bits 20:12 are not part of the address.
  const uint64_t big = 0x4020'0000ull;
  CHECK(EptFormat::leaf_entry(big | 0x1000, Attr{kRW, MemType::wt, false}, 1) ==
        (big | 0x3 | (4u << 3) | (1u << 7)));
  // 1 GiB leaf.
  CHECK(EptFormat::leaf_entry(0x1'4000'0000ull, Attr{kRX, MemType::wc, false}, 2) ==
        (0x1'4000'0000ull | 0x5 | (1u << 3) | (1u << 7)));
  // Execute-only.
  CHECK(EptFormat::leaf_entry(pa, Attr{Perm::exec, MemType::wb, false}, 0) == (pa | 0x4 | (6u << 3)));
}

TEST_CASE("EPT decode round-trips and A/D bits are separate", "[ept][format]") {
  for (unsigned level = 0; level < 3; ++level) {
    for (MemType t : {MemType::uc, MemType::wc, MemType::wt, MemType::wp, MemType::wb}) {
      for (Perm p : {kR, kRW, kRX, kRWX, Perm::exec}) {
        for (bool ipat : {false, true}) {
          const Attr a{p, t, ipat};
          const uint64_t phys = level_size(level) * 3;
          const uint64_t e = EptFormat::leaf_entry(phys, a, level) | (1u << 8) | (1u << 9);
          CHECK(EptFormat::present(e));
          CHECK(EptFormat::is_leaf(e, level));
          CHECK(EptFormat::leaf_attr(e, level) == a);
          CHECK(EptFormat::leaf_phys(e, level) == phys);
          CHECK(EptFormat::accessed_dirty(e) == ((1u << 8) | (1u << 9)));
        }
      }
    }
  }
}

TEST_CASE("EPT table entries and presence", "[ept][format]") {
  const uint64_t t = EptFormat::table_entry(0xABC'D000ull);
  CHECK(t == (0xABC'D000ull | 0x7));   // RWX, no memtype, bit 7 clear
  CHECK(EptFormat::present(t));
  CHECK_FALSE(EptFormat::is_leaf(t, 1));
  CHECK(EptFormat::table_phys(t | (1u << 8)) == 0xABC'D000ull);   // accessed bit ignored
  // Not present = bits 2:0 all clear, whatever else is set (29.3.2).
  CHECK_FALSE(EptFormat::present(0xFFFF'F000ull | (6u << 3)));
  CHECK(EptFormat::present(0x4));
  // A level-0 entry is a leaf even without bit 7.
  CHECK(EptFormat::is_leaf(0x1001, 0));
}

TEST_CASE("EPT attribute checks follow 29.3.3.1 misconfigurations", "[ept][format]") {
  Options o;
  CHECK(EptFormat::check(Attr{kRW, MemType::wb, false}, o) == Status::ok);
  CHECK(EptFormat::check(Attr{Perm::write, MemType::wb, false}, o) == Status::bad_attr);   // W without R
  CHECK(EptFormat::check(Attr{Perm::write | Perm::exec, MemType::wb, false}, o) == Status::bad_attr);
  CHECK(EptFormat::check(Attr{Perm::exec, MemType::wb, false}, o) == Status::bad_attr);   // no exec-only cap
  o.exec_only = true;
  CHECK(EptFormat::check(Attr{Perm::exec, MemType::wb, false}, o) == Status::ok);
  CHECK(EptFormat::check(Attr{Perm::none, MemType::wb, false}, o) == Status::bad_attr);
  CHECK(EptFormat::check(Attr{kR | Perm::user, MemType::wb, false}, o) == Status::bad_attr);
  CHECK(EptFormat::check(Attr{kR, static_cast<MemType>(2), false}, o) == Status::bad_attr);
  CHECK(EptFormat::check(Attr{kR, static_cast<MemType>(3), false}, o) == Status::bad_attr);
  CHECK(EptFormat::check(Attr{kR, static_cast<MemType>(7), false}, o) == Status::bad_attr);
  CHECK(EptFormat::check(Attr{kRWX, MemType::wb, false}, o) == Status::ok);
  o.enforce_wx = true;
  CHECK(EptFormat::check(Attr{kRWX, MemType::wb, false}, o) == Status::wx_violation);
  CHECK(EptFormat::check(Attr{kRX, MemType::wb, false}, o) == Status::ok);
}

TEST_CASE("EPT leaf levels follow the capability flags", "[ept][format]") {
  Options o;
  o.page_2m = false;
  o.page_1g = false;
  CHECK(EptFormat::leaf_allowed(0, o));
  CHECK_FALSE(EptFormat::leaf_allowed(1, o));
  CHECK_FALSE(EptFormat::leaf_allowed(2, o));
  o.page_2m = true;
  o.page_1g = true;
  CHECK(EptFormat::leaf_allowed(1, o));
  CHECK(EptFormat::leaf_allowed(2, o));
  CHECK_FALSE(EptFormat::leaf_allowed(3, o));   // PML4 bit 7 is reserved
}

TEST_CASE("EPTP, capability MSR and INVEPT request", "[ept][format]") {
  // WB (6) in bits 2:0, walk length 4-1=3 in bits 5:3, A/D enable bit 6.
  CHECK(make_eptp(0x12'3000ull) == (0x12'3000ull | 6 | (3u << 3)));
  CHECK(make_eptp(0x12'3000ull, MemType::uc, true) == (0x12'3000ull | 0 | (3u << 3) | (1u << 6)));

  const uint64_t cap = (1ull << 0) | (1ull << 6) | (1ull << 14) | (1ull << 16) | (1ull << 20) | (1ull << 25) |
                       (1ull << 26);
  const Options o = ept_options(cap);
  CHECK(o.page_2m);
  CHECK_FALSE(o.page_1g);
  CHECK(o.exec_only);
  CHECK(ept_options(cap | (1ull << 17)).page_1g);

  const InveptRequest single = invept_request(0xABC, cap);
  CHECK(single.supported);
  CHECK(single.type == InveptType::single_context);
  CHECK(single.descriptor.eptp == 0xABC);
  CHECK(single.descriptor.reserved == 0);
  const InveptRequest all = invept_request(0xABC, cap & ~(1ull << 25));
  CHECK(all.supported);
  CHECK(all.type == InveptType::all_context);
  CHECK_FALSE(invept_request(0xABC, cap & ~(1ull << 20)).supported);
  CHECK(static_cast<uint64_t>(InveptType::single_context) == 1);
  CHECK(static_cast<uint64_t>(InveptType::all_context) == 2);
}

TEST_CASE("x86-64 leaf bits (SDM 3A 4.5.4)", "[ept][format][host]") {
  const uint64_t pa = 0x7'7000ull;
  const uint64_t nx = 1ull << 63;
  // RW kernel data, WB (PAT index 0): P | RW | NX.
  CHECK(HostFormat::leaf_entry(pa, Attr{kRW, MemType::wb, false}, 0) == (pa | 0x1 | 0x2 | nx));
  // Kernel text: P only, executable.
  CHECK(HostFormat::leaf_entry(pa, Attr{kRX, MemType::wb, false}, 0) == (pa | 0x1));
  // User, global.
  CHECK(HostFormat::leaf_entry(pa, Attr{kR | Perm::user | Perm::global, MemType::wb, false}, 0) ==
        (pa | 0x1 | 0x4 | 0x100 | nx));
  // UC is PAT index 3: PWT (bit 3) + PCD (bit 4).
  CHECK(HostFormat::leaf_entry(pa, Attr{kRW, MemType::uc, false}, 0) == (pa | 0x3 | 0x8 | 0x10 | nx));
  // WT is index 1: PWT only.
  CHECK(HostFormat::leaf_entry(pa, Attr{kR, MemType::wt, false}, 0) == (pa | 0x1 | 0x8 | nx));
  // WC is index 4: PAT bit, which is bit 7 in a 4 KiB PTE ...
  CHECK(HostFormat::leaf_entry(pa, Attr{kRW, MemType::wc, false}, 0) == (pa | 0x3 | 0x80 | nx));
  // ... and bit 12 in a 2 MiB leaf, whose bit 7 is PS.
  CHECK(HostFormat::leaf_entry(0x20'0000, Attr{kRW, MemType::wc, false}, 1) ==
        (0x20'0000 | 0x3 | 0x80 | 0x1000 | nx));
  // WP is index 5: PAT + PWT; 1 GiB leaf.
  CHECK(HostFormat::leaf_entry(0x4000'0000, Attr{kR, MemType::wp, false}, 2) ==
        (0x4000'0000 | 0x1 | 0x80 | 0x1000 | 0x8 | nx));
}

TEST_CASE("x86-64 decode round-trips; PAT bit not taken for an address bit", "[ept][format][host]") {
  for (unsigned level = 0; level < 3; ++level) {
    for (MemType t : {MemType::uc, MemType::wc, MemType::wt, MemType::wp, MemType::wb}) {
      for (Perm p : {kR, kRW, kRX, kRWX, kR | Perm::user, kRW | Perm::global}) {
        const Attr a{p, t, false};
        const uint64_t phys = level_size(level) * 5;
        const uint64_t e = HostFormat::leaf_entry(phys, a, level) | 0x20 | 0x40;   // A, D
        CHECK(HostFormat::is_leaf(e, level));
        CHECK(HostFormat::leaf_attr(e, level) == a);
        CHECK(HostFormat::leaf_phys(e, level) == phys);
        CHECK(HostFormat::accessed_dirty(e) == 0x60);
      }
    }
  }
}

TEST_CASE("x86-64 table entries, checks and the PAT MSR", "[ept][format][host]") {
  CHECK(HostFormat::table_entry(0x5000) == (0x5000 | 0x1 | 0x2 | 0x4));
  CHECK_FALSE(HostFormat::is_leaf(HostFormat::table_entry(0x5000), 2));
  CHECK_FALSE(HostFormat::present(0x5000 | 0x2));
  Options o;
  CHECK(HostFormat::check(Attr{Perm::write, MemType::wb, false}, o) == Status::bad_attr);   // not readable
  CHECK(HostFormat::check(Attr{kR, MemType::wb, true}, o) == Status::bad_attr);   // ignore-PAT is EPT's
  CHECK(HostFormat::check(Attr{kRWX, MemType::wb, false}, o) == Status::ok);
  o.enforce_wx = true;
  CHECK(HostFormat::check(Attr{kRWX, MemType::wb, false}, o) == Status::wx_violation);
  CHECK(HostFormat::check(Attr{kRWX | Perm::user, MemType::wb, false}, o) == Status::wx_violation);
  CHECK(HostFormat::check(Attr{kRW, MemType::wb, false}, o) == Status::ok);
  // IA32_PAT: PA0..PA7 = WB WT UC- UC WC WP UC- UC (encodings 6 4 7 0 1 5 7 0).
  CHECK(kHostPatMsr == 0x0007'0501'0007'0406ull);
}
