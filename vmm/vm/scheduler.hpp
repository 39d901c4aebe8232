// Running guests (docs/scheduling.md): every CPU runs the guests pinned to
// it round-robin, one slice each, a slice ending at the VMX-preemption
// timer, after 10 ms of TSC counted from its start (checked after every
// exit, so the VMM's time for the guest is charged to it), or when the
// guest stops. The BSP also serves the shell between slices. A guest that
// spins, or storms the VMM with exits, cannot keep the others from their
// turn.
#pragma once

namespace mamori::vm {

struct Guest;

// Never returns. bsp: also poll the shell.
[[noreturn]] void cpu_loop(bool bsp);

// Puts the extended (FPU/SSE/AVX) state of the guest whose state is in
// this CPU's registers aside, so that VMM-side code that needs the
// registers (the service partition) may use them; the guest gets its state
// back before it is entered again.
void release_fpu();

// A vCPU stopped (vm/exits.cpp stop_guest): an AP stops its guest, vCPU 0
// its APs; each at its own next scheduling point.
void vcpu_stopped(Guest& g);

// Shell actions (take effect at the guest's next scheduling point).
bool request_start(const char* name, const char** why);
bool request_stop(const char* name, const char** why);

}  // namespace mamori::vm
