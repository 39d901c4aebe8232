// Filling a VmcsImage with mamori's standard VMCS contents: controls from
// ComputedControls, host state from the VMM's own registers, and the three
// guest start states mamori uses. The VMM then VMWRITEs every field of the
// image (and runs check_vm_entry on it first). Pure.
//
// Guest start states (all need "unrestricted guest" except long mode):
//   real mode        — CR0.PE = 0, like after INIT (SDM Vol. 3A §9.1.1),
//   flat protected   — CR0.PE = 1, PG = 0, flat 4 GiB CS/DS: the Multiboot1
//                      entry state (Multiboot spec 0.6.96 §3.2),
//   long mode        — IA-32e, 64-bit CS, paging with the given CR3.
#pragma once
#include <stdint.h>

#include "vmx/capabilities.hpp"
#include "vmx/control_compute.hpp"
#include "vmx/vmcs_image.hpp"

namespace mamori::vmx {

// EPT pointer (SDM Vol. 3C §25.6.11, Table 25-9): memory type 2:0, page-walk
// length - 1 in 5:3, A/D enable bit 6, PML4 address 12+.
constexpr uint64_t make_eptp(uint64_t pml4_phys, MemoryType type, bool accessed_dirty) {
  return (pml4_phys & ~0xFFFull) | static_cast<uint64_t>(type) | (3ull << 3) |
         (accessed_dirty ? 1ull << 6 : 0);
}

struct ControlSetup {
  uint64_t io_bitmap_a = 0;   // 4 KiB aligned physical
  uint64_t io_bitmap_b = 0;
  uint64_t msr_bitmap = 0;
  uint64_t eptp = 0;          // make_eptp(...)
  uint16_t vpid = 0;          // used if VPID is enabled; must be non-zero
  uint32_t exception_bitmap = 0;
  bool ia32e_mode_guest = false;  // ORed into the entry controls
};
void setup_controls(VmcsImage& v, const VmxCapabilities& caps, const ComputedControls& ctl,
                    const ControlSetup& s);

// The VMM's own state, as it reads it (MOV from CRx, STR, SGDT, RDMSR, ...).
struct HostState {
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0;
  uint16_t cs = 0, ss = 0, ds = 0, es = 0, fs = 0, gs = 0, tr = 0;
  uint64_t fs_base = 0, gs_base = 0, tr_base = 0, gdtr_base = 0, idtr_base = 0;
  uint64_t rsp = 0, rip = 0;  // exit stub stack and entry point
  uint64_t efer = 0, pat = 0;
  uint32_t sysenter_cs = 0;
  uint64_t sysenter_esp = 0, sysenter_eip = 0;
};
void setup_host(VmcsImage& v, const HostState& h);

struct GuestStart {
  uint64_t rip = 0;
  uint64_t rsp = 0;
  uint64_t cr3 = 0;           // long mode only
  uint16_t cs_selector = 0;   // real mode: CS base = selector << 4
  // Flat protected mode: the selectors and GDTR the guest starts with. The
  // defaults are the Multiboot test guests' (CS 0x08, data 0x10, GDTR 0/0xFFFF,
  // TR 0); the Linux and PVH entries use the boot GDT the VMM writes into
  // guest memory (vmm/guest_boot/entry_state.hpp: CS 0x10, data 0x18, TR 0x20).
  uint16_t code_selector = 0x08, data_selector = 0x10, tr_selector = 0;
  uint64_t gdtr_base = 0;
  uint16_t gdtr_limit = 0xFFFF;
};
// Real mode at cs_selector:rip (16-bit segments, limit 0xFFFF).
void setup_guest_real_mode(VmcsImage& v, const VmxCapabilities& caps, const GuestStart& g);
// Flat 32-bit protected mode, paging off (Multiboot1 entry: CS 0x08, data 0x10;
// or g's selectors and GDTR).
void setup_guest_flat_protected(VmcsImage& v, const VmxCapabilities& caps, const GuestStart& g);
// 64-bit mode with CR3 = g.cr3 (4-level paging), CS 0x08, data 0x10.
void setup_guest_long_mode(VmcsImage& v, const VmxCapabilities& caps, const GuestStart& g);

}  // namespace mamori::vmx
