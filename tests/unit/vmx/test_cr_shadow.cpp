// Guest CR0/CR4 writes under mamori's guest/host masks (§25.6.6), checked
// end to end: the resulting guest state passes the VM-entry checker.
#include <catch.hpp>

#include "fixtures.hpp"
#include "vmx/cr_shadow.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;
using F = VmcsField;

TEST_CASE("CR0 writes: the guest sees its value, the CPU gets the forced bits") {
  const VmxCapabilities c = decode(raw_from(kBochsSkylakeX));
  // Real-mode guest enabling protected mode without NE (typical boot code).
  CrUpdate u = cr0_write(c, true, 0x11);
  CHECK_FALSE(u.inject_gp);
  CHECK(u.guest_value == 0x31);  // NE forced
  CHECK(u.read_shadow == 0x11);
  // Enabling paging: PG and PE are the guest's own with unrestricted guest.
  u = cr0_write(c, true, 0x80000011);
  CHECK(u.guest_value == 0x80000031);
  // Back to real mode.
  u = cr0_write(c, true, 0x10);
  CHECK(u.guest_value == 0x30);
  // Without unrestricted guest PE and PG stay forced.
  u = cr0_write(c, false, 0x10);
  CHECK(u.guest_value == 0x80000031);
  // #GP cases.
  CHECK(cr0_write(c, true, 0x80000010).inject_gp);      // PG without PE
  CHECK(cr0_write(c, true, 0x20000011).inject_gp);      // NW without CD
  CHECK(cr0_write(c, true, 0x100000011ull).inject_gp);  // bits 63:32
  CHECK_FALSE(cr0_write(c, true, 0x60000011).inject_gp);  // CD+NW is fine
}

TEST_CASE("CR4 writes: VMXE forced but hidden; VMX and unsupported bits refused") {
  const VmxCapabilities sky = decode(raw_from(kBochsSkylakeX));
  const VmxCapabilities ivy = decode(raw_from(kBochsIvyBridge));
  CrUpdate u = cr4_write(sky, 0x20);  // PAE
  CHECK_FALSE(u.inject_gp);
  CHECK(u.guest_value == 0x2020);
  CHECK(u.read_shadow == 0x20);
  CHECK(cr4_write(sky, 0x2020).inject_gp);  // guest tries to enable VMX
  // CR4.PKE (bit 22) is not in either FIXED1; SMAP (bit 21) only Skylake-X.
  CHECK(cr4_write(sky, 1u << 22).inject_gp);
  CHECK_FALSE(cr4_write(sky, 1u << 21).inject_gp);
  CHECK(cr4_write(ivy, 1u << 21).inject_gp);
}

TEST_CASE("after CR writes handled this way the guest state still passes the checker") {
  for (const MsrSet* s : kAllSets) {
    INFO(s->name);
    const Machine m = machine(*s);
    VmcsImage v = good_image(m, GuestKind::real_mode);
    // Guest: real mode → protected mode → PAE paging (32-bit).
    const CrUpdate cr0 = cr0_write(m.caps, true, 0x80000011);
    const CrUpdate cr4 = cr4_write(m.caps, 0x20);
    REQUIRE_FALSE(cr0.inject_gp);
    REQUIRE_FALSE(cr4.inject_gp);
    v.set(F::guest_cr0, cr0.guest_value);
    v.set(F::cr0_read_shadow, cr0.read_shadow);
    v.set(F::guest_cr4, cr4.guest_value);
    v.set(F::cr4_read_shadow, cr4.read_shadow);
    v.set(F::guest_cs_selector, 0x08);
    v.set(F::guest_cs_base, 0);
    v.set(F::guest_cs_limit, 0xFFFFFFFF);
    v.set(F::guest_cs_access_rights, 0xC09B);
    for (F ar : {F::guest_ss_access_rights, F::guest_ds_access_rights, F::guest_es_access_rights,
                 F::guest_fs_access_rights, F::guest_gs_access_rights})
      v.set(ar, 0xC093);
    for (F lim : {F::guest_ss_limit, F::guest_ds_limit, F::guest_es_limit, F::guest_fs_limit,
                  F::guest_gs_limit})
      v.set(lim, 0xFFFFFFFF);
    v.set(F::guest_cr3, 0x9000);
    for (F p : {F::guest_pdpte0, F::guest_pdpte1, F::guest_pdpte2, F::guest_pdpte3})
      v.set(p, 0xA001);  // present, no reserved bits
    EntryCheckReport r;
    check_vm_entry(v, m.ctx, r);
    CHECK(r.ok());
  }
}

TEST_CASE("IA-32e mode: CR0.PG with EFER.LME sets LMA and the entry control, as Linux's startup_32 does") {
  constexpr uint64_t kPg = 1ull << 31, kPe = 1, kPae = 1ull << 5, kLme = 1ull << 8, kLma = 1ull << 10;
  // Paging on with LME and PAE: long mode.
  LongModeUpdate u = long_mode_on_cr0_write(kPg | kPe, kPae, kLme, false);
  CHECK_FALSE(u.inject_gp);
  CHECK(u.efer == (kLme | kLma));
  CHECK(u.ia32e_mode_guest);
  // Without LME: 32-bit paging, nothing changes.
  u = long_mode_on_cr0_write(kPg | kPe, kPae, 0, false);
  CHECK_FALSE(u.inject_gp);
  CHECK(u.efer == 0);
  CHECK_FALSE(u.ia32e_mode_guest);
  // LME without PAE: #GP, EFER unchanged.
  u = long_mode_on_cr0_write(kPg | kPe, 0, kLme, false);
  CHECK(u.inject_gp);
  CHECK(u.efer == kLme);
  // Paging off from compatibility mode (CS.L = 0): leaves IA-32e mode.
  u = long_mode_on_cr0_write(kPe, kPae, kLme | kLma, false);
  CHECK_FALSE(u.inject_gp);
  CHECK(u.efer == kLme);
  CHECK_FALSE(u.ia32e_mode_guest);
  // ... but not from 64-bit code.
  CHECK(long_mode_on_cr0_write(kPe, kPae, kLme | kLma, true).inject_gp);
  // Other EFER bits (SCE, NXE) pass through.
  CHECK(long_mode_on_cr0_write(kPg | kPe, kPae, kLme | 1 | (1ull << 11), false).efer == (kLme | kLma | 1 | (1ull << 11)));
}

TEST_CASE("after the IA-32e switch the guest state passes the checker (flat 32-bit code, compatibility mode)") {
  for (const MsrSet* s : kAllSets) {
    INFO(s->name);
    const Machine m = machine(*s);
    VmcsImage v = good_image(m, GuestKind::flat_boot_gdt);
    const CrUpdate cr4 = cr4_write(m.caps, 0x20);
    const CrUpdate cr0 = cr0_write(m.caps, true, 0x80000011);
    REQUIRE_FALSE(cr0.inject_gp);
    const LongModeUpdate lm = long_mode_on_cr0_write(cr0.read_shadow, cr4.read_shadow, 1ull << 8, false);
    REQUIRE_FALSE(lm.inject_gp);
    v.set(F::guest_cr0, cr0.guest_value);
    v.set(F::cr0_read_shadow, cr0.read_shadow);
    v.set(F::guest_cr4, cr4.guest_value);
    v.set(F::cr4_read_shadow, cr4.read_shadow);
    v.set(F::guest_cr3, 0x9000);
    v.set(F::guest_ia32_efer, lm.efer);
    const uint64_t bit = 1ull << 9;  // IA-32e mode guest
    v.set(F::entry_controls, lm.ia32e_mode_guest ? v.get(F::entry_controls) | bit : v.get(F::entry_controls) & ~bit);
    EntryCheckReport r;
    check_vm_entry(v, m.ctx, r);
    CHECK(r.ok());
    // The failure seen in Bochs before: EFER.LMA/LME set, the control not.
    v.set(F::entry_controls, v.get(F::entry_controls) & ~bit);
    EntryCheckReport bad;
    check_vm_entry(v, m.ctx, bad);
    CHECK_FALSE(bad.ok());
  }
}
