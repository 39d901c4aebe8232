// The VMM's own address space, built with the one page-table engine
// (ept/, HostPageTable) once the frame allocator exists (docs/boot.md):
//
//   identity map of physical memory: RAM write-back, everything else
//     uncacheable, all read+write and no-execute; page 0 left unmapped so a
//     null pointer faults
//   the VMM image at its link address: text R+X, rodata R, data+bss R+W
//
// W^X is enforced by the engine (Options::enforce_wx). The loader's tables
// are only used until build() switches CR3.
#pragma once
#include <stdint.h>
#include "boot/bootinfo.hpp"
#include "ept/ept.hpp"
#include "vmm/mem/paging.hpp"

namespace mamori::mem {

// BSP, once: builds the tables and switches to them. False (with a log
// line) if the tables could not be built; the loader's tables stay then.
bool build_address_space(const boot::BootInfo& bi);
// Every CPU: loads the PAT layout the engine's memory types assume.
void load_pat();
uint64_t address_space_cr3();
// Maps what a service-partition process's tables must hold of the VMM,
// supervisor-only, and nothing else (as KPTI's cpu_entry_area): the entry
// stubs' text (R+X) up to their CR3 switch, and the entry area (R+W): GDTs,
// TSSs, IDT, kernel and IST stacks, per-CPU records (vmm/link.ld).
bool map_partition_entry(ept::HostPageTable& t);
uint64_t address_space_table_pages();

// For the last firmware call before a reset: a second address space with
// the same mappings where nothing is no-execute (UEFI runtime images mix
// code and data). Switches CR3 to it; false if it could not be built.
bool enter_firmware_address_space();

}  // namespace mamori::mem
