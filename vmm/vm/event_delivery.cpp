#include "event_delivery.hpp"
#include "vmm/vm/virtual_platform.hpp"
#include "vmm/vm/vmx_insn.hpp"
#include "vmx/controls.hpp"
#include "vmx/exit_qualification.hpp"

namespace mamori::vm {
namespace {
using vmx::InterruptionInfo;
using vmx::VmcsField;
namespace lapic = devices::lapic;

constexpr uint64_t kRflagsIf = 1ull << 9;
// Guest interruptibility state (SDM 3C §25.4.2 Table 25-3).
constexpr uint32_t kBlockingBySti = 1u << 0, kBlockingByMovSs = 1u << 1, kBlockingByNmi = 1u << 3;
constexpr uint32_t kEntryValid = 1u << 31;
constexpr uint32_t kInterruptWindow = vmx::bit_of(vmx::ProcCtl::interrupt_window_exiting);
constexpr uint32_t kNmiWindow = vmx::bit_of(vmx::ProcCtl::nmi_window_exiting);

void set_windows(Guest& g, uint32_t want) {
  uint32_t v = (g.proc_controls & ~(kInterruptWindow | kNmiWindow)) | want;
  if (v == g.proc_controls) return;
  g.proc_controls = v;
  vmwrite<VmcsField::proc_based_controls>(v);
}
}  // namespace

void deliver_events(Guest& g) {
  if (!g.platform) return;
  // The fast path: nothing for the guest, no window open (no VMREADs).
  if (!platform_interrupt_waiting(g)) {
    if (g.proc_controls & (kInterruptWindow | kNmiWindow)) set_windows(g, 0);
    return;
  }
  // An event is already being injected on this entry (an exception, or one
  // whose delivery an exit interrupted, vm/exits.cpp): ours waits for the
  // window after it.
  if (vmread<VmcsField::entry_interruption_info>() & kEntryValid) {
    set_windows(g, kInterruptWindow);
    return;
  }
  const uint32_t intr = vmread<VmcsField::guest_interruptibility_state>();
  lapic::Interruptibility st;
  st.rflags_if = vmread<VmcsField::guest_rflags>() & kRflagsIf;
  st.blocked_by_sti = intr & kBlockingBySti;
  st.blocked_by_mov_ss = intr & kBlockingByMovSs;
  st.blocked_by_nmi = intr & kBlockingByNmi;
  uint8_t vector;
  const lapic::PendingEvent ev = platform_take_event(g, st, vector);
  if (ev.kind == lapic::EventKind::None) {
    // An NMI blocked by the guest's NMI handler needs the NMI window
    // (virtual NMIs only, §26.7.6); a maskable interrupt the interrupt
    // window. Without virtual NMIs a blocked NMI waits for the next exit.
    uint32_t want = kInterruptWindow;
    if (st.blocked_by_nmi && g.virtual_nmis) want |= kNmiWindow;
    set_windows(g, want);
    return;
  }
  const bool nmi = ev.kind == lapic::EventKind::Nmi;
  vmwrite<VmcsField::entry_interruption_info>(
      InterruptionInfo::make(vector, nmi ? InterruptionInfo::Type::nmi : InterruptionInfo::Type::external_interrupt,
                             false)
          .raw);
  // More waiting (a higher vector once this one's ISR bit drops, or the
  // next one after the guest's handler re-enables interrupts): exit as soon
  // as it can take it.
  set_windows(g, platform_interrupt_waiting(g) ? kInterruptWindow : 0);
}

void window_opened(Guest& g, bool nmi_window) {
  set_windows(g, g.proc_controls & (nmi_window ? kInterruptWindow : kNmiWindow));
}

}  // namespace mamori::vm
