#include "vmx/control_compute.hpp"

namespace mamori::vmx {

ControlRequest mamori_control_request() {
  ControlRequest r;
  r.require(PinCtl::external_interrupt_exiting)
      .require(PinCtl::nmi_exiting)
      .require(PinCtl::preemption_timer)
      .prefer(PinCtl::virtual_nmis);
  r.require(ProcCtl::hlt_exiting)
      .require(ProcCtl::io_bitmaps)
      .require(ProcCtl::msr_bitmaps)
      .require(ProcCtl::secondary_controls)
      // MOV to/from CR8 exit: without "use TPR shadow" they would reach
      // the physical TPR (SDM 3C §26.3); mamori emulates the guest's CR8.
      .require(ProcCtl::cr8_load_exiting)
      .require(ProcCtl::cr8_store_exiting)
      // MONITOR/MWAIT get #UD (CPUID hides them); RDPMC #GP (no PMU for
      // guests: without the exit a guest in ring 0 reads the host's counters).
      .prefer(ProcCtl::mwait_exiting)
      .prefer(ProcCtl::monitor_exiting)
      .prefer(ProcCtl::rdpmc_exiting)
      // With EPT the guest owns CR3: no exits for MOV to/from CR3 (default1).
      .avoid_bit(ProcCtl::cr3_load_exiting)
      .avoid_bit(ProcCtl::cr3_store_exiting);
  r.require(Proc2Ctl::enable_ept)
      .require(Proc2Ctl::unrestricted_guest)
      .prefer(Proc2Ctl::enable_vpid)
      .prefer(Proc2Ctl::enable_rdtscp)
      .prefer(Proc2Ctl::enable_invpcid)
      .prefer(Proc2Ctl::enable_xsaves)
      // WBINVD completes without flushing (vm/instructions.cpp): a guest
      // cannot flush the caches of the others on the package.
      .prefer(Proc2Ctl::wbinvd_exiting);
  r.require(ExitCtl::host_address_space_size)
      .require(ExitCtl::ack_interrupt_on_exit)
      .require(ExitCtl::save_efer)
      .require(ExitCtl::load_efer)
      // IA32_PAT is the guest's own (passed through in the MSR bitmap):
      // it must be switched on every entry and exit, or a guest's WRMSR
      // would set the host's memory types (SDM 3C §25.7.1, §25.8.1).
      .require(ExitCtl::save_pat)
      .require(ExitCtl::load_pat)
      .prefer(ExitCtl::save_preemption_timer);
  r.require(EntryCtl::load_efer).require(EntryCtl::load_pat);
  return r;
}

bool ComputedControls::is_missing(ControlKind k, uint32_t mask) const {
  for (int i = 0; i < missing_count; ++i)
    if (missing[i].kind == k && (mask >> missing[i].bit) & 1) return true;
  return false;
}

namespace {
void list_bits(ControlBit* list, int* count, ControlKind k, uint32_t bits) {
  for (unsigned b = 0; b < 32; ++b)
    if ((bits >> b) & 1 && *count < ComputedControls::kMaxList)
      list[(*count)++] = {k, static_cast<uint8_t>(b)};
}
}  // namespace

ComputedControls compute_controls(const VmxCapabilities& caps, const ControlRequest& req_in) {
  ControlRequest req = req_in;
  const int pin = static_cast<int>(ControlKind::pin);
  const int proc = static_cast<int>(ControlKind::proc);
  const int proc2 = static_cast<int>(ControlKind::proc2);
  (void)pin;
  // Asking for any secondary control implies asking for the secondary word.
  if (req.required[proc2]) req.required[proc] |= bit_of(ProcCtl::secondary_controls);
  if (req.optional[proc2]) req.optional[proc] |= bit_of(ProcCtl::secondary_controls);

  ComputedControls out;
  for (int k = 0; k < kControlKinds; ++k) {
    const ControlKind kind = static_cast<ControlKind>(k);
    const ControlCapability& cap = caps.controls[k];
    const uint32_t want = req.required[k] | req.optional[k];
    uint32_t v = cap.must_be_one | (want & cap.may_be_one);
    // App. A.2: default1 controls the caller did not ask about keep 1.
    v |= default1_mask(kind) & cap.may_be_one & ~req.avoid[k] & ~want;
    out.value[k] = v;
    list_bits(out.missing, &out.missing_count, kind, req.required[k] & ~cap.may_be_one);
    list_bits(out.unavailable, &out.unavailable_count, kind,
              req.optional[k] & ~cap.may_be_one & ~req.required[k]);
    list_bits(out.forced, &out.forced_count, kind, req.avoid[k] & cap.must_be_one);
  }
  // A.3.3: if the primary word does not activate them, secondary controls
  // are treated as 0: write 0 there.
  if (!(out.value[proc] & bit_of(ProcCtl::secondary_controls))) out.value[proc2] = 0;
  return out;
}

}  // namespace mamori::vmx
