#include "vmx/event_injection.hpp"

namespace mamori::vmx {

InjectVerdict can_inject(const GuestEventState& g, InterruptionInfo ev) {
  using T = InterruptionInfo::Type;
  const bool sti = g.interruptibility & 1, movss = g.interruptibility & 2,
             nmi_blocked = g.interruptibility & 8;
  const T t = ev.type();
  // §27.3.1.5: nothing can be injected into wait-for-SIPI; shutdown admits
  // only NMI and #MC.
  if (g.activity == 3) return InjectVerdict::never;
  if (g.activity == 2 && !(t == T::nmi || (t == T::hardware_exception && ev.vector() == 18)))
    return InjectVerdict::never;
  switch (t) {
    case T::external_interrupt:
      // §27.3.1.4/§27.3.1.5: IF = 1 and no STI/MOV-SS blocking.
      if (!(g.rflags & (1ull << 9)) || sti || movss) return InjectVerdict::wait_interrupt_window;
      return InjectVerdict::now;
    case T::nmi:
      // No MOV-SS blocking; STI blocking refused by some processors; with
      // virtual NMIs, no virtual-NMI blocking.
      if (movss || sti || (g.virtual_nmis && nmi_blocked))
        return g.virtual_nmis ? InjectVerdict::wait_nmi_window : InjectVerdict::wait_interrupt_window;
      return InjectVerdict::now;
    default:
      return InjectVerdict::now;  // exceptions and software events are not blocked
  }
}

}  // namespace mamori::vmx
