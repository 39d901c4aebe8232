// Checks on guest state (SDM Vol. 3C §27.3.1.1-27.3.1.6).
#include "vmx/entry_check.hpp"
#include "vmx/entry_check_util.hpp"

namespace mamori::vmx {
namespace {
using namespace detail;
constexpr const char* k27311 = "27.3.1.1";
constexpr const char* k27312 = "27.3.1.2";
constexpr const char* k27313 = "27.3.1.3";
constexpr const char* k27314 = "27.3.1.4";
constexpr const char* k27315 = "27.3.1.5";
constexpr const char* k27316 = "27.3.1.6";

void control_regs_msrs(Facts& f) {
  const auto G = RuleGroup::guest_control_regs_msrs;
  const uint64_t cr0 = f.guest_cr0;
  const uint64_t cr4 = f.get(VmcsField::guest_cr4);
  // With unrestricted guest, PE and PG are exempt from FIXED0 (§27.3.1.1).
  const uint64_t fixed0 = f.caps.cr0_fixed0 & ~(f.ug ? (kCr0Pe | kCr0Pg) : 0);
  if ((cr0 & fixed0) != fixed0)
    f.fail(G, k27311,
           f.ug ? "guest CR0: a bit IA32_VMX_CR0_FIXED0 requires is 0 (NE must be 1)"
                : "guest CR0: a bit IA32_VMX_CR0_FIXED0 requires is 0 (PE, NE, PG must be 1 "
                  "without unrestricted guest)",
           VmcsField::guest_cr0);
  if (cr0 & ~f.caps.cr0_fixed1)
    f.fail(G, k27311, "guest CR0: a bit IA32_VMX_CR0_FIXED1 forbids is 1", VmcsField::guest_cr0);
  if ((cr0 & kCr0Pg) && !(cr0 & kCr0Pe))
    f.fail(G, k27311, "guest CR0.PG = 1 requires CR0.PE = 1", VmcsField::guest_cr0);
  if ((cr4 & f.caps.cr4_fixed0) != f.caps.cr4_fixed0 || (cr4 & ~f.caps.cr4_fixed1))
    f.fail(G, k27311, "guest CR4 violates IA32_VMX_CR4_FIXED0/FIXED1 (VMXE must be 1)",
           VmcsField::guest_cr4);
  if ((cr4 & kCr4Cet) && !(cr0 & kCr0Wp))
    f.fail(G, k27311, "guest CR4.CET = 1 requires CR0.WP = 1", VmcsField::guest_cr4);
  if (f.entry & bit_of(EntryCtl::load_debug_controls)) {
    // IA32_DEBUGCTL reserved bits: 5:2 and 63:16.
    if (f.get(VmcsField::guest_ia32_debugctl) & 0xFFFFFFFFFFFF003Cull)
      f.fail(G, k27311, "guest IA32_DEBUGCTL reserved bits must be 0", VmcsField::guest_ia32_debugctl);
    if (f.get(VmcsField::guest_dr7) >> 32)
      f.fail(G, k27311, "guest DR7 bits 63:32 must be 0", VmcsField::guest_dr7);
  }
  if (f.ia32e_guest) {
    if (!(cr0 & kCr0Pg) || !(cr4 & kCr4Pae))
      f.fail(G, k27311, "'IA-32e mode guest' requires guest CR0.PG = 1 and CR4.PAE = 1",
             VmcsField::guest_cr4);
  } else if (cr4 & kCr4Pcide) {
    f.fail(G, k27311, "guest CR4.PCIDE must be 0 outside IA-32e mode", VmcsField::guest_cr4);
  }
  if (!within_phys(f.get(VmcsField::guest_cr3), f.ctx.maxphyaddr))
    f.fail(G, k27311, "guest CR3 bits beyond MAXPHYADDR must be 0", VmcsField::guest_cr3);
  const unsigned la = f.ctx.linear_address_bits;
  if (!canonical(f.get(VmcsField::guest_ia32_sysenter_esp), la))
    f.fail(G, k27311, "guest IA32_SYSENTER_ESP must be canonical", VmcsField::guest_ia32_sysenter_esp);
  if (!canonical(f.get(VmcsField::guest_ia32_sysenter_eip), la))
    f.fail(G, k27311, "guest IA32_SYSENTER_EIP must be canonical", VmcsField::guest_ia32_sysenter_eip);
  if ((f.entry & bit_of(EntryCtl::load_pat)) && !pat_valid(f.get(VmcsField::guest_ia32_pat)))
    f.fail(G, k27311, "guest IA32_PAT: every entry must be a valid memory type (0,1,4,5,6,7)",
           VmcsField::guest_ia32_pat);
  if (f.entry & bit_of(EntryCtl::load_efer)) {
    const uint64_t efer = f.get(VmcsField::guest_ia32_efer);
    if (efer & ~kEferDefined)
      f.fail(G, k27311, "guest IA32_EFER reserved bits must be 0", VmcsField::guest_ia32_efer);
    if (static_cast<bool>(efer & kEferLma) != f.ia32e_guest)
      f.fail(G, k27311, "guest IA32_EFER.LMA must equal 'IA-32e mode guest'", VmcsField::guest_ia32_efer);
    if ((cr0 & kCr0Pg) && static_cast<bool>(efer & kEferLme) != f.ia32e_guest)
      f.fail(G, k27311, "guest IA32_EFER.LME must equal 'IA-32e mode guest' when CR0.PG = 1",
             VmcsField::guest_ia32_efer);
  }
}

struct Seg {
  const char* name;
  VmcsField sel, base, limit, ar;
};
constexpr Seg kCs{"CS", VmcsField::guest_cs_selector, VmcsField::guest_cs_base,
                  VmcsField::guest_cs_limit, VmcsField::guest_cs_access_rights};
constexpr Seg kSs{"SS", VmcsField::guest_ss_selector, VmcsField::guest_ss_base,
                  VmcsField::guest_ss_limit, VmcsField::guest_ss_access_rights};
constexpr Seg kData[] = {
    {"DS", VmcsField::guest_ds_selector, VmcsField::guest_ds_base, VmcsField::guest_ds_limit,
     VmcsField::guest_ds_access_rights},
    {"ES", VmcsField::guest_es_selector, VmcsField::guest_es_base, VmcsField::guest_es_limit,
     VmcsField::guest_es_access_rights},
    {"FS", VmcsField::guest_fs_selector, VmcsField::guest_fs_base, VmcsField::guest_fs_limit,
     VmcsField::guest_fs_access_rights},
    {"GS", VmcsField::guest_gs_selector, VmcsField::guest_gs_base, VmcsField::guest_gs_limit,
     VmcsField::guest_gs_access_rights},
};

// Granularity (§27.3.1.2): limit[11:0] not all 1 → G = 0; limit[31:20] not
// all 0 → G = 1.
bool granularity_ok(uint32_t limit, AccessRights ar) {
  if ((limit & 0xFFF) != 0xFFF && ar.g()) return false;
  if ((limit >> 20) != 0 && !ar.g()) return false;
  return true;
}

void segments(Facts& f) {
  const auto G = RuleGroup::guest_segments;
  const bool v86 = f.guest_rflags & kRflagsVm;
  const AccessRights cs{static_cast<uint32_t>(f.get(kCs.ar))};
  const AccessRights ss{static_cast<uint32_t>(f.get(kSs.ar))};
  const AccessRights tr{static_cast<uint32_t>(f.get(VmcsField::guest_tr_access_rights))};
  const AccessRights ldtr{static_cast<uint32_t>(f.get(VmcsField::guest_ldtr_access_rights))};
  const unsigned la = f.ctx.linear_address_bits;

  // Selectors.
  if (f.get(VmcsField::guest_tr_selector) & 4)
    f.fail(G, k27312, "guest TR selector: TI flag must be 0", VmcsField::guest_tr_selector);
  if (!ldtr.unusable() && (f.get(VmcsField::guest_ldtr_selector) & 4))
    f.fail(G, k27312, "guest LDTR selector: TI flag must be 0 when LDTR is usable",
           VmcsField::guest_ldtr_selector);
  if (!v86 && !f.ug && (f.get(kSs.sel) & 3) != (f.get(kCs.sel) & 3))
    f.fail(G, k27312, "guest SS.RPL must equal CS.RPL (no unrestricted guest, not virtual-8086)",
           kSs.sel);

  // Bases.
  if (!canonical(f.get(VmcsField::guest_tr_base), la))
    f.fail(G, k27312, "guest TR base must be canonical", VmcsField::guest_tr_base);
  if (!canonical(f.get(VmcsField::guest_fs_base), la))
    f.fail(G, k27312, "guest FS base must be canonical", VmcsField::guest_fs_base);
  if (!canonical(f.get(VmcsField::guest_gs_base), la))
    f.fail(G, k27312, "guest GS base must be canonical", VmcsField::guest_gs_base);
  if (!ldtr.unusable() && !canonical(f.get(VmcsField::guest_ldtr_base), la))
    f.fail(G, k27312, "guest LDTR base must be canonical when usable", VmcsField::guest_ldtr_base);
  if (f.get(kCs.base) >> 32)
    f.fail(G, k27312, "guest CS base bits 63:32 must be 0", kCs.base);
  if (!ss.unusable() && (f.get(kSs.base) >> 32))
    f.fail(G, k27312, "guest SS base bits 63:32 must be 0", kSs.base);
  for (int i = 0; i < 2; ++i) {  // DS, ES
    const AccessRights ar{static_cast<uint32_t>(f.get(kData[i].ar))};
    if (!ar.unusable() && (f.get(kData[i].base) >> 32))
      f.fail(G, k27312, "guest DS/ES base bits 63:32 must be 0", kData[i].base);
  }

  if (v86) {
    // Virtual-8086 mode: base = selector << 4, limit 0xFFFF, AR 0xF3.
    const Seg all[] = {kCs, kSs, kData[0], kData[1], kData[2], kData[3]};
    for (const Seg& s : all) {
      if (f.get(s.base) != (f.get(s.sel) << 4))
        f.fail(G, k27312, "virtual-8086 guest: segment base must be selector << 4", s.base);
      if (f.get(s.limit) != 0xFFFF)
        f.fail(G, k27312, "virtual-8086 guest: segment limit must be 0xFFFF", s.limit);
      if (f.get(s.ar) != 0xF3)
        f.fail(G, k27312, "virtual-8086 guest: segment access rights must be 0xF3", s.ar);
    }
  } else {
    // CS.
    const unsigned ct = cs.type();
    if (!(ct == 9 || ct == 11 || ct == 13 || ct == 15 || (f.ug && ct == 3)))
      f.fail(G, k27312, "guest CS: type must be 9, 11, 13 or 15 (3 with unrestricted guest)", kCs.ar);
    if (!cs.s()) f.fail(G, k27312, "guest CS: S (descriptor type) must be 1", kCs.ar);
    if (ct == 3 && cs.dpl() != 0)
      f.fail(G, k27312, "guest CS: type 3 (unrestricted guest) requires DPL 0", kCs.ar);
    if ((ct == 9 || ct == 11) && cs.dpl() != ss.dpl())
      f.fail(G, k27312, "guest CS: non-conforming code requires CS.DPL = SS.DPL", kCs.ar);
    if ((ct == 13 || ct == 15) && cs.dpl() > ss.dpl())
      f.fail(G, k27312, "guest CS: conforming code requires CS.DPL <= SS.DPL", kCs.ar);
    if (!cs.p()) f.fail(G, k27312, "guest CS: P (present) must be 1", kCs.ar);
    if (cs.reserved()) f.fail(G, k27312, "guest CS: access-rights reserved bits must be 0", kCs.ar);
    if (f.ia32e_guest && cs.l() && cs.db())
      f.fail(G, k27312, "guest CS: L = 1 in IA-32e mode requires D/B = 0", kCs.ar);
    if (!granularity_ok(static_cast<uint32_t>(f.get(kCs.limit)), cs))
      f.fail(G, k27312, "guest CS: G flag inconsistent with the limit", kCs.ar);

    // SS.
    if (!ss.unusable()) {
      if (ss.type() != 3 && ss.type() != 7)
        f.fail(G, k27312, "guest SS: type must be 3 or 7 (read/write data)", kSs.ar);
      if (!ss.s()) f.fail(G, k27312, "guest SS: S (descriptor type) must be 1", kSs.ar);
      if (!ss.p()) f.fail(G, k27312, "guest SS: P (present) must be 1", kSs.ar);
      if (ss.reserved()) f.fail(G, k27312, "guest SS: access-rights reserved bits must be 0", kSs.ar);
      if (!granularity_ok(static_cast<uint32_t>(f.get(kSs.limit)), ss))
        f.fail(G, k27312, "guest SS: G flag inconsistent with the limit", kSs.ar);
    }
    if (!f.ug && ss.dpl() != (f.get(kSs.sel) & 3))
      f.fail(G, k27312, "guest SS: DPL must equal SS.RPL (no unrestricted guest)", kSs.ar);
    if ((ct == 3 || !(f.guest_cr0 & kCr0Pe)) && ss.dpl() != 0)
      f.fail(G, k27312, "guest SS: DPL must be 0 in real mode or with CS type 3", kSs.ar);

    // DS, ES, FS, GS.
    for (const Seg& s : kData) {
      const AccessRights ar{static_cast<uint32_t>(f.get(s.ar))};
      if (ar.unusable()) continue;
      if (!(ar.type() & 1))
        f.fail(G, k27312, "guest DS/ES/FS/GS: type must have the accessed bit set", s.ar);
      if ((ar.type() & 8) && !(ar.type() & 2))
        f.fail(G, k27312, "guest DS/ES/FS/GS: a code segment here must be readable", s.ar);
      if (!ar.s()) f.fail(G, k27312, "guest DS/ES/FS/GS: S (descriptor type) must be 1", s.ar);
      if (!f.ug && ar.type() <= 11 && ar.dpl() < (f.get(s.sel) & 3))
        f.fail(G, k27312, "guest DS/ES/FS/GS: DPL must be >= RPL (no unrestricted guest)", s.ar);
      if (!ar.p()) f.fail(G, k27312, "guest DS/ES/FS/GS: P (present) must be 1", s.ar);
      if (ar.reserved())
        f.fail(G, k27312, "guest DS/ES/FS/GS: access-rights reserved bits must be 0", s.ar);
      if (!granularity_ok(static_cast<uint32_t>(f.get(s.limit)), ar))
        f.fail(G, k27312, "guest DS/ES/FS/GS: G flag inconsistent with the limit", s.ar);
    }
  }

  // TR (checked in every mode).
  const VmcsField tra = VmcsField::guest_tr_access_rights;
  if (f.ia32e_guest ? tr.type() != 11 : (tr.type() != 3 && tr.type() != 11))
    f.fail(G, k27312, "guest TR: type must be 11 (busy 32/64-bit TSS), or 3 outside IA-32e mode", tra);
  if (tr.s()) f.fail(G, k27312, "guest TR: S must be 0 (system descriptor)", tra);
  if (!tr.p()) f.fail(G, k27312, "guest TR: P (present) must be 1", tra);
  if (tr.reserved()) f.fail(G, k27312, "guest TR: access-rights reserved bits must be 0", tra);
  if (!granularity_ok(static_cast<uint32_t>(f.get(VmcsField::guest_tr_limit)), tr))
    f.fail(G, k27312, "guest TR: G flag inconsistent with the limit", tra);
  if (tr.unusable()) f.fail(G, k27312, "guest TR must be usable", tra);

  // LDTR (if usable).
  if (!ldtr.unusable()) {
    const VmcsField la_ = VmcsField::guest_ldtr_access_rights;
    if (ldtr.type() != 2) f.fail(G, k27312, "guest LDTR: type must be 2 (LDT)", la_);
    if (ldtr.s()) f.fail(G, k27312, "guest LDTR: S must be 0", la_);
    if (!ldtr.p()) f.fail(G, k27312, "guest LDTR: P (present) must be 1", la_);
    if (ldtr.reserved()) f.fail(G, k27312, "guest LDTR: access-rights reserved bits must be 0", la_);
    if (!granularity_ok(static_cast<uint32_t>(f.get(VmcsField::guest_ldtr_limit)), ldtr))
      f.fail(G, k27312, "guest LDTR: G flag inconsistent with the limit", la_);
  }
}

void descriptor_tables(Facts& f) {
  const auto G = RuleGroup::guest_descriptor_tables;
  const unsigned la = f.ctx.linear_address_bits;
  if (!canonical(f.get(VmcsField::guest_gdtr_base), la))
    f.fail(G, k27313, "guest GDTR base must be canonical", VmcsField::guest_gdtr_base);
  if (!canonical(f.get(VmcsField::guest_idtr_base), la))
    f.fail(G, k27313, "guest IDTR base must be canonical", VmcsField::guest_idtr_base);
  if (f.get(VmcsField::guest_gdtr_limit) >> 16)
    f.fail(G, k27313, "guest GDTR limit bits 31:16 must be 0", VmcsField::guest_gdtr_limit);
  if (f.get(VmcsField::guest_idtr_limit) >> 16)
    f.fail(G, k27313, "guest IDTR limit bits 31:16 must be 0", VmcsField::guest_idtr_limit);
}

void rip_rflags(Facts& f) {
  const auto G = RuleGroup::guest_rip_rflags;
  const uint64_t rip = f.get(VmcsField::guest_rip);
  const AccessRights cs{static_cast<uint32_t>(f.get(VmcsField::guest_cs_access_rights))};
  if (f.ia32e_guest && cs.l()) {
    if (!canonical(rip, f.ctx.linear_address_bits))
      f.fail(G, k27314, "guest RIP must be canonical in 64-bit mode", VmcsField::guest_rip);
  } else if (rip >> 32) {
    f.fail(G, k27314, "guest RIP bits 63:32 must be 0 outside 64-bit mode", VmcsField::guest_rip);
  }
  const uint64_t fl = f.guest_rflags;
  // Reserved: 63:22, 15, 5, 3 must be 0; bit 1 must be 1.
  if ((fl & 0xFFFFFFFFFFC08028ull) || !(fl & 2))
    f.fail(G, k27314, "guest RFLAGS: reserved bits 63:22, 15, 5, 3 must be 0 and bit 1 must be 1",
           VmcsField::guest_rflags);
  if ((fl & kRflagsVm) && (f.ia32e_guest || !(f.guest_cr0 & kCr0Pe)))
    f.fail(G, k27314, "guest RFLAGS.VM must be 0 in IA-32e mode or with CR0.PE = 0",
           VmcsField::guest_rflags);
  if (f.event.valid() && f.event.type() == InterruptionInfo::Type::external_interrupt &&
      !(fl & kRflagsIf))
    f.fail(G, k27314, "guest RFLAGS.IF must be 1 when injecting an external interrupt",
           VmcsField::guest_rflags);
}

void non_register(Facts& f) {
  const auto G = RuleGroup::guest_non_register;
  using T = InterruptionInfo::Type;
  const uint64_t act = f.get(VmcsField::guest_activity_state);
  const uint64_t intr = f.get(VmcsField::guest_interruptibility_state);
  const bool sti = intr & 1, movss = intr & 2, smi = intr & 4, nmi = intr & 8;
  const AccessRights ss{static_cast<uint32_t>(f.get(VmcsField::guest_ss_access_rights))};
  const auto A = VmcsField::guest_activity_state;
  const auto I = VmcsField::guest_interruptibility_state;

  // Activity state (0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI), App. A.6.
  if (act > 3)
    f.fail(G, k27315, "guest activity state must be 0-3", A);
  else if ((act == 1 && !f.caps.misc.activity_hlt) || (act == 2 && !f.caps.misc.activity_shutdown) ||
           (act == 3 && !f.caps.misc.activity_wait_for_sipi))
    f.fail(G, k27315, "guest activity state not supported by IA32_VMX_MISC", A);
  if (act == 1 && ss.dpl() != 0)
    f.fail(G, k27315, "guest activity state HLT requires SS.DPL = 0", A);
  if ((sti || movss) && act != 0)
    f.fail(G, k27315, "blocking by STI or MOV SS requires the active state", A);
  if (f.event.valid()) {
    const T t = f.event.type();
    const uint8_t vec = f.event.vector();
    // HLT admits external interrupts, NMIs, #DB, #MC and pending MTF only.
    if (act == 1 && !(t == T::external_interrupt || t == T::nmi ||
                      (t == T::hardware_exception && (vec == 1 || vec == 18)) ||
                      (t == T::other_event && vec == 0)))
      f.fail(G, k27315,
             "in the HLT state only external interrupts, NMI, #DB, #MC or MTF can be injected", A);
    if (act == 3)
      f.fail(G, k27315, "no event can be injected into wait-for-SIPI", A);
    if (act == 2 && !(t == T::nmi || (t == T::hardware_exception && f.event.vector() == 18)))
      f.fail(G, k27315, "only NMI or #MC can be injected in the shutdown state", A);
  }
  if ((f.entry & bit_of(EntryCtl::entry_to_smm)) && act == 3)
    f.fail(G, k27315, "'entry to SMM' cannot enter wait-for-SIPI", A);

  // Interruptibility state (§25.4.2 Table 25-3).
  if (intr & ~0x1Full)
    f.fail(G, k27315, "guest interruptibility state bits 31:5 must be 0", I);
  if (sti && movss)
    f.fail(G, k27315, "blocking by STI and by MOV SS cannot both be 1", I);
  if (sti && !(f.guest_rflags & kRflagsIf))
    f.fail(G, k27315, "blocking by STI requires RFLAGS.IF = 1", I);
  if (f.event.valid() && f.event.type() == T::external_interrupt && (sti || movss))
    f.fail(G, k27315, "injecting an external interrupt requires no STI/MOV-SS blocking", I);
  if (f.event.valid() && f.event.type() == T::nmi && movss)
    f.fail(G, k27315, "injecting an NMI requires no MOV-SS blocking", I);
  if (smi && !f.ctx.in_smm)
    f.fail(G, k27315, "blocking by SMI must be 0 outside SMM", I);
  if ((f.entry & bit_of(EntryCtl::entry_to_smm)) && !smi)
    f.fail(G, k27315, "'entry to SMM' requires blocking by SMI", I);
  if ((f.pin & bit_of(PinCtl::virtual_nmis)) && f.event.valid() && f.event.type() == T::nmi && nmi)
    f.fail(G, k27315, "injecting an NMI with virtual NMIs requires no blocking by NMI", I);
  // "A processor may require" STI blocking to be 0 for NMI injection: the
  // VMM never needs it, so it is reported.
  if (f.event.valid() && f.event.type() == T::nmi && sti)
    f.fail(G, k27315, "injecting an NMI while blocked by STI (refused by some processors)", I);
  if ((intr & 0x10) && movss)
    f.fail(G, k27315, "enclave interruption (bit 4) requires no MOV-SS blocking", I);

  // Pending debug exceptions (§25.4.2): bits 11:4, 13, 15, 63:17 reserved.
  const uint64_t pde = f.get(VmcsField::guest_pending_debug_exceptions);
  const auto P = VmcsField::guest_pending_debug_exceptions;
  if (pde & 0xFFFFFFFFFFFEAFF0ull)
    f.fail(G, k27315, "guest pending debug exceptions: reserved bits 11:4, 13, 15, 63:17 must be 0", P);
  // RTM (bit 16): no other pending debug conditions but "enabled breakpoint"
  // (bit 12, must be 1), and no MOV-SS blocking.
  if ((pde & (1ull << 16)) && ((pde & 0x5FFFull) != 0x1000 || movss))
    f.fail(G, k27315,
           "pending debug exceptions RTM (bit 16) requires bits 11:0 and 14 clear, bit 12 set and "
           "no MOV-SS blocking",
           P);
  if (sti || movss || act == 1) {
    const bool bs = pde & (1ull << 14);
    const bool tf = f.guest_rflags & kRflagsTf;
    const bool btf = f.get(VmcsField::guest_ia32_debugctl) & 2;
    if (tf && !btf && !bs)
      f.fail(G, k27315, "pending debug exceptions BS must be 1 (RFLAGS.TF = 1, BTF = 0) while blocked or halted", P);
    if ((!tf || btf) && bs)
      f.fail(G, k27315, "pending debug exceptions BS must be 0 (RFLAGS.TF = 0 or BTF = 1) while blocked or halted", P);
  }

  // VMCS link pointer: all ones, or a 4-KiB aligned address within
  // MAXPHYADDR (whose VMCS revision the CPU then checks).
  const uint64_t link = f.get(VmcsField::vmcs_link_pointer);
  if (link != ~0ull) {
    if (!page_aligned_phys(link, f.ctx.maxphyaddr))
      f.fail(G, k27315, "VMCS link pointer must be all ones or a 4-KiB aligned address within MAXPHYADDR",
             VmcsField::vmcs_link_pointer);
    else if (f.ctx.link_pointer_must_be_all_ones)
      f.fail(G, k27315,
             "VMCS link pointer must be all ones (no shadow VMCS; otherwise the CPU checks for a "
             "VMCS revision identifier at that address)",
             VmcsField::vmcs_link_pointer);
  }
}

void pdptes(Facts& f) {
  // PAE paging with EPT: the PDPTEs come from the VMCS fields.
  const uint64_t cr4 = f.get(VmcsField::guest_cr4);
  if (!((f.guest_cr0 & kCr0Pg) && (cr4 & kCr4Pae) && !f.ia32e_guest && f.ept)) return;
  const VmcsField fields[] = {VmcsField::guest_pdpte0, VmcsField::guest_pdpte1,
                              VmcsField::guest_pdpte2, VmcsField::guest_pdpte3};
  for (VmcsField p : fields) {
    const uint64_t e = f.get(p);
    if ((e & 1) && ((e & 0x1E6) || !within_phys(e & ~0xFFFull, f.ctx.maxphyaddr)))
      f.fail(RuleGroup::guest_pdptes, k27316,
             "guest PDPTE present with reserved bits set (2:1, 8:5 or beyond MAXPHYADDR)", p);
  }
}
}  // namespace

void check_guest_state(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out) {
  Facts f(vmcs, ctx, out);
  control_regs_msrs(f);
  segments(f);
  descriptor_tables(f);
  rip_rflags(f);
  non_register(f);
  pdptes(f);
}

}  // namespace mamori::vmx
