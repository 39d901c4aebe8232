#include "vmx/vmcs_setup.hpp"

#include "vmx/entry_check_util.hpp"

namespace mamori::vmx {
using namespace detail;
using F = VmcsField;

void setup_controls(VmcsImage& v, const VmxCapabilities& caps, const ComputedControls& c,
                    const ControlSetup& s) {
  uint32_t entry = c.entry();
  if (s.ia32e_mode_guest) entry |= bit_of(EntryCtl::ia32e_mode_guest);
  v.set(F::pin_based_controls, c.pin());
  v.set(F::proc_based_controls, c.proc());
  v.set(F::secondary_proc_controls, c.proc2());
  v.set(F::exit_controls, c.exit());
  v.set(F::entry_controls, entry);
  v.set(F::exception_bitmap, s.exception_bitmap);
  v.set(F::page_fault_error_code_mask, 0);
  v.set(F::page_fault_error_code_match, 0);
  v.set(F::cr3_target_count, 0);
  v.set(F::io_bitmap_a, s.io_bitmap_a);
  v.set(F::io_bitmap_b, s.io_bitmap_b);
  v.set(F::msr_bitmap, s.msr_bitmap);
  v.set(F::ept_pointer, s.eptp);
  v.set(F::vpid, (c.proc2() & bit_of(Proc2Ctl::enable_vpid)) ? s.vpid : 0);
  v.set(F::tsc_offset, 0);
  v.set(F::exit_msr_store_count, 0);
  v.set(F::exit_msr_load_count, 0);
  v.set(F::entry_msr_load_count, 0);
  v.set(F::entry_interruption_info, 0);
  v.set(F::entry_exception_error_code, 0);
  v.set(F::entry_instruction_length, 0);
  v.set(F::tpr_threshold, 0);
  // The CR0/CR4 bits VMX forces (App. A.7/A.8) belong to the host: guest
  // reads see the read shadow, guest writes that differ exit (§25.6.6).
  // With unrestricted guest, PE and PG are the guest's own.
  const bool ug = c.proc2() & bit_of(Proc2Ctl::unrestricted_guest);
  v.set(F::cr0_guest_host_mask, caps.cr0_fixed0 & ~(ug ? (kCr0Pe | kCr0Pg) : 0));
  v.set(F::cr4_guest_host_mask, caps.cr4_fixed0);
}

void setup_host(VmcsImage& v, const HostState& h) {
  v.set(F::host_cr0, h.cr0);
  v.set(F::host_cr3, h.cr3);
  v.set(F::host_cr4, h.cr4);
  v.set(F::host_cs_selector, h.cs);
  v.set(F::host_ss_selector, h.ss);
  v.set(F::host_ds_selector, h.ds);
  v.set(F::host_es_selector, h.es);
  v.set(F::host_fs_selector, h.fs);
  v.set(F::host_gs_selector, h.gs);
  v.set(F::host_tr_selector, h.tr);
  v.set(F::host_fs_base, h.fs_base);
  v.set(F::host_gs_base, h.gs_base);
  v.set(F::host_tr_base, h.tr_base);
  v.set(F::host_gdtr_base, h.gdtr_base);
  v.set(F::host_idtr_base, h.idtr_base);
  v.set(F::host_rsp, h.rsp);
  v.set(F::host_rip, h.rip);
  v.set(F::host_ia32_efer, h.efer);
  v.set(F::host_ia32_pat, h.pat);
  v.set(F::host_ia32_sysenter_cs, h.sysenter_cs);
  v.set(F::host_ia32_sysenter_esp, h.sysenter_esp);
  v.set(F::host_ia32_sysenter_eip, h.sysenter_eip);
}

namespace {
// Access-rights values (§25.4.1 Table 25-2).
constexpr uint32_t kArCode16 = 0x009B;    // P, S, type 11 (code, read, accessed)
constexpr uint32_t kArData16 = 0x0093;    // P, S, type 3 (data, r/w, accessed)
constexpr uint32_t kArCode32 = 0xC09B;    // + D/B, G
constexpr uint32_t kArData32 = 0xC093;
constexpr uint32_t kArCode64 = 0xA09B;    // + L, G (D/B = 0)
constexpr uint32_t kArTss = 0x008B;       // P, type 11 (busy 32/64-bit TSS)
constexpr uint32_t kArUnusable = 0x10000;
constexpr uint64_t kDefaultPat = 0x0007040600070406ull;  // power-up PAT (Vol. 3A §11.12.4)
constexpr uint64_t kCr0Et = 1ull << 4;
constexpr uint64_t kCr0Ne = 1ull << 5;

struct SegValues {
  uint16_t sel;
  uint64_t base;
  uint32_t limit;
  uint32_t ar;
};

void set_seg(VmcsImage& v, F sel, F base, F limit, F ar, const SegValues& s) {
  v.set(sel, s.sel);
  v.set(base, s.base);
  v.set(limit, s.limit);
  v.set(ar, s.ar);
}

void set_common(VmcsImage& v, const VmxCapabilities& caps, uint64_t cr0, uint64_t cr4,
                const SegValues& code, const SegValues& data, const GuestStart& g) {
  set_seg(v, F::guest_cs_selector, F::guest_cs_base, F::guest_cs_limit, F::guest_cs_access_rights, code);
  set_seg(v, F::guest_ss_selector, F::guest_ss_base, F::guest_ss_limit, F::guest_ss_access_rights, data);
  set_seg(v, F::guest_ds_selector, F::guest_ds_base, F::guest_ds_limit, F::guest_ds_access_rights, data);
  set_seg(v, F::guest_es_selector, F::guest_es_base, F::guest_es_limit, F::guest_es_access_rights, data);
  set_seg(v, F::guest_fs_selector, F::guest_fs_base, F::guest_fs_limit, F::guest_fs_access_rights, data);
  set_seg(v, F::guest_gs_selector, F::guest_gs_base, F::guest_gs_limit, F::guest_gs_access_rights, data);
  set_seg(v, F::guest_ldtr_selector, F::guest_ldtr_base, F::guest_ldtr_limit,
          F::guest_ldtr_access_rights, {0, 0, 0, kArUnusable});
  // TR must be a usable busy TSS even where the guest never loaded one
  // (§27.3.1.2); a zero-based 0x67-byte TSS is what INIT leaves, in effect.
  set_seg(v, F::guest_tr_selector, F::guest_tr_base, F::guest_tr_limit, F::guest_tr_access_rights,
          {0, 0, 0x67, kArTss});
  v.set(F::guest_gdtr_base, 0);
  v.set(F::guest_gdtr_limit, 0xFFFF);
  v.set(F::guest_idtr_base, 0);
  v.set(F::guest_idtr_limit, 0xFFFF);
  v.set(F::guest_cr0, cr0 | caps.cr0_fixed0 | kCr0Ne);
  v.set(F::guest_cr4, cr4 | caps.cr4_fixed0);
  // What the guest believes: no VMX-forced bits.
  v.set(F::cr0_read_shadow, cr0);
  v.set(F::cr4_read_shadow, cr4);
  v.set(F::guest_cr3, g.cr3);
  v.set(F::guest_dr7, 0x400);
  v.set(F::guest_rsp, g.rsp);
  v.set(F::guest_rip, g.rip);
  v.set(F::guest_rflags, 0x2);
  v.set(F::guest_pending_debug_exceptions, 0);
  v.set(F::guest_interruptibility_state, 0);
  v.set(F::guest_activity_state, 0);
  v.set(F::vmcs_link_pointer, ~0ull);
  v.set(F::guest_ia32_debugctl, 0);
  v.set(F::guest_ia32_pat, kDefaultPat);
  v.set(F::guest_ia32_sysenter_cs, 0);
  v.set(F::guest_ia32_sysenter_esp, 0);
  v.set(F::guest_ia32_sysenter_eip, 0);
  v.set(F::guest_preemption_timer, 0);
}
}  // namespace

void setup_guest_real_mode(VmcsImage& v, const VmxCapabilities& caps, const GuestStart& g) {
  const uint64_t base = static_cast<uint64_t>(g.cs_selector) << 4;
  set_common(v, caps, kCr0Et, 0, {g.cs_selector, base, 0xFFFF, kArCode16}, {0, 0, 0xFFFF, kArData16}, g);
  // With unrestricted guest PE/PG may be 0 (§27.3.1.1): strip them again
  // from the FIXED0 bits added by set_common.
  v.set(F::guest_cr0, (v.get(F::guest_cr0) & ~(kCr0Pe | kCr0Pg)));
  v.set(F::guest_idtr_limit, 0x3FF);  // real-mode IVT
  v.set(F::guest_ia32_efer, 0);
}

void setup_guest_flat_protected(VmcsImage& v, const VmxCapabilities& caps, const GuestStart& g) {
  set_common(v, caps, kCr0Et | kCr0Pe, 0, {g.code_selector, 0, 0xFFFFFFFF, kArCode32},
             {g.data_selector, 0, 0xFFFFFFFF, kArData32}, g);
  v.set(F::guest_tr_selector, g.tr_selector);
  v.set(F::guest_gdtr_base, g.gdtr_base);
  v.set(F::guest_gdtr_limit, g.gdtr_limit);
  v.set(F::guest_cr0, v.get(F::guest_cr0) & ~kCr0Pg);  // paging off: needs unrestricted guest
  v.set(F::guest_ia32_efer, 0);
}

void setup_guest_long_mode(VmcsImage& v, const VmxCapabilities& caps, const GuestStart& g) {
  set_common(v, caps, kCr0Et | kCr0Pe | kCr0Wp | kCr0Pg, kCr4Pae, {0x08, 0, 0xFFFFFFFF, kArCode64},
             {0x10, 0, 0xFFFFFFFF, kArData32}, g);
  v.set(F::guest_ia32_efer, kEferLme | kEferLma);
}

}  // namespace mamori::vmx
