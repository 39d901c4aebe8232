// Shared test fixtures: capability records from the real MSR sets and
// known-good VMCS images built with vmx/vmcs_setup.
#pragma once
#include "msr_sets.hpp"
#include "vmx/capabilities.hpp"
#include "vmx/control_compute.hpp"
#include "vmx/entry_check.hpp"
#include "vmx/vmcs_image.hpp"
#include "vmx/vmcs_setup.hpp"

namespace mamori::vmx::testdata {

struct Machine {
  const MsrSet* set;
  VmxCapabilities caps;
  ComputedControls ctl;
  EntryCheckContext ctx;
};

inline Machine machine(const MsrSet& s) {
  Machine m{&s, decode(raw_from(s)), {}, {}};
  m.ctl = compute_controls(m.caps, mamori_control_request());
  m.ctx.caps = &m.caps;
  m.ctx.maxphyaddr = s.maxphyaddr;
  return m;
}

// A plausible VMM host state: higher-half kernel, 4-level paging, EFER with
// SCE|LME|LMA|NXE, CS 0x08, SS 0x10, TR 0x28.
inline HostState vmm_host_state() {
  HostState h;
  h.cr0 = 0x80050033;  // PE MP ET NE WP AM PG
  h.cr3 = 0x0000000001000000;
  h.cr4 = 0x00002620;  // PAE OSFXSR OSXMMEXCPT VMXE
  h.cs = 0x08;
  h.ss = 0x10;
  h.tr = 0x28;
  h.fs_base = 0;
  h.gs_base = 0xFFFFFFFF80200000;
  h.tr_base = 0xFFFFFFFF80100000;
  h.gdtr_base = 0xFFFFFFFF80101000;
  h.idtr_base = 0xFFFFFFFF80102000;
  h.rsp = 0xFFFFFFFF80400000;
  h.rip = 0xFFFFFFFF80001000;
  h.efer = 0xD01;
  h.pat = 0x0007040600070406;
  return h;
}

inline ControlSetup control_setup(const Machine& m, bool long_mode) {
  ControlSetup s;
  s.io_bitmap_a = 0x200000;
  s.io_bitmap_b = 0x201000;
  s.msr_bitmap = 0x202000;
  s.eptp = make_eptp(0x300000, MemoryType::wb, false);
  s.vpid = 1;
  s.ia32e_mode_guest = long_mode;
  (void)m;
  return s;
}

// flat_boot_gdt: the Linux/PVH entry, flat protected mode with the boot
// GDT's selectors (vmm/guest_boot/entry_state.hpp: CS 0x10, data 0x18, TR 0x20).
enum class GuestKind { long_mode, real_mode, flat_protected, flat_boot_gdt };

inline VmcsImage good_image(const Machine& m, GuestKind kind) {
  VmcsImage v;
  setup_controls(v, m.caps, m.ctl, control_setup(m, kind == GuestKind::long_mode));
  setup_host(v, vmm_host_state());
  GuestStart g;
  switch (kind) {
    case GuestKind::long_mode:
      g.rip = 0xFFFFFFFF81000000;
      g.rsp = 0x7000;
      g.cr3 = 0x100000;
      setup_guest_long_mode(v, m.caps, g);
      break;
    case GuestKind::real_mode:
      g.cs_selector = 0xF000;
      g.rip = 0xFFF0;
      setup_guest_real_mode(v, m.caps, g);
      break;
    case GuestKind::flat_protected:
      g.rip = 0x100000;
      setup_guest_flat_protected(v, m.caps, g);
      break;
    case GuestKind::flat_boot_gdt:
      g.rip = 0x1000000;
      g.code_selector = 0x10;
      g.data_selector = 0x18;
      g.tr_selector = 0x20;
      g.gdtr_base = 0x500;
      g.gdtr_limit = 0x27;
      setup_guest_flat_protected(v, m.caps, g);
      break;
  }
  return v;
}

}  // namespace mamori::vmx::testdata
