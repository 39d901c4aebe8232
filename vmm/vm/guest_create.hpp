// Building guests from mamori.cfg's [vm NAME] sections: RAM, the kernel
// with its initrd/modules and boot information in the format it is
// (vmm/guest_boot/load.hpp: Linux bzImage, PVH, Multiboot1), EPT, MSR and
// I/O bitmaps. The VMCS is set up later, on the
// guest's own CPU (vm/scheduler.cpp), because its host state is per CPU.
#pragma once
#include "boot/bootinfo.hpp"
#include "vmm/measure/launch.hpp"

namespace mamori::vm {

// Creates every configured guest; a guest that cannot be created is
// reported with the reason and skipped, the others still start.
void create_guests(const boot::BootInfo& bi);

struct Guest;
// (Re)loads the image into the guest's RAM and resets its registers and
// VMCS state, for a restart after `vm stop`. False with a reason logged.
bool reload_guest(Guest& g);

// The events of its last measured launch again, from the same inputs (for
// `vm eventlog` / `vm pcrs`; the files' digests are cached, nothing is
// hashed twice), with the banks its TPM had. False when it was not measured.
bool launch_measurements(const Guest& g, measure::EventSink& sink, measure::Banks& banks);

// The guest-physical addresses of the boot structures: vmm/guest_boot/layout.hpp.

}  // namespace mamori::vm
