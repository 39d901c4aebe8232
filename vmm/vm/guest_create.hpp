// Building guests from mamori.cfg's [vm NAME] sections: RAM, the image
// (a Multiboot1 ELF at its physical addresses), Multiboot information and
// memory map, EPT, MSR and I/O bitmaps. The VMCS is set up later, on the
// guest's own CPU (vm/scheduler.cpp), because its host state is per CPU.
#pragma once
#include "boot/bootinfo.hpp"

namespace mamori::vm {

// Creates every configured guest; a guest that cannot be created is
// reported with the reason and skipped, the others still start.
void create_guests(const boot::BootInfo& bi);

struct Guest;
// (Re)loads the image into the guest's RAM and resets its registers and
// VMCS state, for a restart after `vm stop`. False with a reason logged.
bool reload_guest(Guest& g);

// Guest-physical addresses of the Multiboot structures (below the 1 MiB
// where images start).
inline constexpr uint64_t kMultibootInfoGpa = 0x7000;
inline constexpr uint64_t kMultibootMmapGpa = 0x7100;
inline constexpr uint64_t kMultibootCmdlineGpa = 0x7200;
inline constexpr uint64_t kGuestImageMinGpa = 0x100000;

}  // namespace mamori::vm
