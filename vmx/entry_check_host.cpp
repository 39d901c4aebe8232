// Checks on host state (SDM Vol. 3C §27.2.2 control registers and MSRs,
// §27.2.3 segment and descriptor-table registers, §27.2.4 address-space size).
#include "vmx/entry_check.hpp"
#include "vmx/entry_check_util.hpp"

namespace mamori::vmx {
namespace {
using namespace detail;
constexpr const char* k2722 = "27.2.2";
constexpr const char* k2723 = "27.2.3";
constexpr const char* k2724 = "27.2.4";

void control_regs_msrs(Facts& f) {
  const auto G = RuleGroup::host_control_regs_msrs;
  const uint64_t cr0 = f.get(VmcsField::host_cr0);
  const uint64_t cr4 = f.get(VmcsField::host_cr4);
  // App. A.7/A.8: FIXED0 1-bits must be 1, FIXED1 0-bits must be 0.
  if ((cr0 & f.caps.cr0_fixed0) != f.caps.cr0_fixed0 || (cr0 & ~f.caps.cr0_fixed1))
    f.fail(G, k2722, "host CR0 violates IA32_VMX_CR0_FIXED0/FIXED1 (e.g. PE, NE, PG must be 1)",
           VmcsField::host_cr0);
  if ((cr4 & f.caps.cr4_fixed0) != f.caps.cr4_fixed0 || (cr4 & ~f.caps.cr4_fixed1))
    f.fail(G, k2722, "host CR4 violates IA32_VMX_CR4_FIXED0/FIXED1 (VMXE must be 1)",
           VmcsField::host_cr4);
  if (!within_phys(f.get(VmcsField::host_cr3), f.ctx.maxphyaddr))
    f.fail(G, k2722, "host CR3 bits beyond MAXPHYADDR must be 0", VmcsField::host_cr3);
  if ((cr4 & kCr4Cet) && !(cr0 & kCr0Wp))
    f.fail(G, k2722, "host CR4.CET = 1 requires host CR0.WP = 1", VmcsField::host_cr4);
  const unsigned la = f.ctx.linear_address_bits;
  if (!canonical(f.get(VmcsField::host_ia32_sysenter_esp), la))
    f.fail(G, k2722, "host IA32_SYSENTER_ESP must be canonical", VmcsField::host_ia32_sysenter_esp);
  if (!canonical(f.get(VmcsField::host_ia32_sysenter_eip), la))
    f.fail(G, k2722, "host IA32_SYSENTER_EIP must be canonical", VmcsField::host_ia32_sysenter_eip);
  if ((f.exit & bit_of(ExitCtl::load_pat)) && !pat_valid(f.get(VmcsField::host_ia32_pat)))
    f.fail(G, k2722, "host IA32_PAT: every entry must be a valid memory type (0,1,4,5,6,7)",
           VmcsField::host_ia32_pat);
  if (f.exit & bit_of(ExitCtl::load_efer)) {
    const uint64_t efer = f.get(VmcsField::host_ia32_efer);
    if (efer & ~kEferDefined)
      f.fail(G, k2722, "host IA32_EFER reserved bits must be 0", VmcsField::host_ia32_efer);
    const bool lma = efer & kEferLma, lme = efer & kEferLme;
    if (lma != f.host_64 || lme != f.host_64)
      f.fail(G, k2722, "host IA32_EFER.LMA and LME must equal 'host address-space size'",
             VmcsField::host_ia32_efer);
  }
}

void segments(Facts& f) {
  const auto G = RuleGroup::host_segments;
  const VmcsField sel[] = {VmcsField::host_es_selector, VmcsField::host_cs_selector,
                           VmcsField::host_ss_selector, VmcsField::host_ds_selector,
                           VmcsField::host_fs_selector, VmcsField::host_gs_selector,
                           VmcsField::host_tr_selector};
  for (VmcsField s : sel)
    if (f.get(s) & 7)
      f.fail(G, k2723, "host selector: RPL (bits 1:0) and TI (bit 2) must be 0", s);
  if (f.get(VmcsField::host_cs_selector) == 0)
    f.fail(G, k2723, "host CS selector must not be 0", VmcsField::host_cs_selector);
  if (f.get(VmcsField::host_tr_selector) == 0)
    f.fail(G, k2723, "host TR selector must not be 0", VmcsField::host_tr_selector);
  if (!f.host_64 && f.get(VmcsField::host_ss_selector) == 0)
    f.fail(G, k2723, "host SS selector must not be 0 with a 32-bit host", VmcsField::host_ss_selector);
  const unsigned la = f.ctx.linear_address_bits;
  const VmcsField bases[] = {VmcsField::host_fs_base, VmcsField::host_gs_base,
                             VmcsField::host_gdtr_base, VmcsField::host_idtr_base,
                             VmcsField::host_tr_base};
  for (VmcsField b : bases)
    if (!canonical(f.get(b), la))
      f.fail(G, k2723, "host FS/GS/GDTR/IDTR/TR base must be canonical", b);
}

void address_space(Facts& f) {
  const auto G = RuleGroup::host_address_space;
  const uint64_t cr4 = f.get(VmcsField::host_cr4);
  const uint64_t rip = f.get(VmcsField::host_rip);
  if (f.ctx.host_efer_lma && !f.host_64)
    f.fail(G, k2724, "the VMM runs in IA-32e mode: 'host address-space size' must be 1",
           VmcsField::exit_controls);
  if (!f.ctx.host_efer_lma && (f.host_64 || f.ia32e_guest))
    f.fail(G, k2724, "outside IA-32e mode: 'host address-space size' and 'IA-32e mode guest' must be 0",
           VmcsField::exit_controls);
  if (f.host_64) {
    if (!(cr4 & kCr4Pae))
      f.fail(G, k2724, "64-bit host requires host CR4.PAE = 1", VmcsField::host_cr4);
    if (!canonical(rip, f.ctx.linear_address_bits))
      f.fail(G, k2724, "64-bit host requires a canonical host RIP", VmcsField::host_rip);
  } else {
    if (f.ia32e_guest)
      f.fail(G, k2724, "32-bit host: 'IA-32e mode guest' must be 0", VmcsField::entry_controls);
    if (cr4 & kCr4Pcide)
      f.fail(G, k2724, "32-bit host: host CR4.PCIDE must be 0", VmcsField::host_cr4);
    if (rip >> 32)
      f.fail(G, k2724, "32-bit host: host RIP bits 63:32 must be 0", VmcsField::host_rip);
  }
}
}  // namespace

void check_host_state(const VmcsImage& vmcs, const EntryCheckContext& ctx, EntryCheckReport& out) {
  Facts f(vmcs, ctx, out);
  control_regs_msrs(f);
  segments(f);
  address_space(f);
}

}  // namespace mamori::vmx
