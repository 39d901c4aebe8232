#include "guest_create.hpp"
#include <new>
#include "ept/ept.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/core/config.hpp"
#include "vmm/core/elf64.hpp"
#include "vmm/core/multiboot1.hpp"
#include "vmm/guest_boot/elf32.hpp"
#include "vmm/guest_boot/entry_state.hpp"
#include "vmm/guest_boot/identify.hpp"
#include "vmm/guest_boot/layout.hpp"
#include "vmm/guest_boot/linux_boot.hpp"
#include "vmm/guest_boot/multiboot_info.hpp"
#include "vmm/guest_boot/pvh.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/engine_frames.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/percpu.hpp"
#include "vmm/platform/config.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/vtpm_attach.hpp"
#include "vmx/bitmaps.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::vm {
namespace {
namespace gb = ::mamori::vmm::guest_boot;
using lib::copy_str;
using lib::str_eq;
constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t kFramesPer2M = k2M / mem::kFrameSize;
// MSRs a guest may access directly: their state lives in the VMCS (guest
// FS/GS base, SYSENTER, EFER and PAT with the load/save controls), so no
// guest sees another's or the VMM's values (SDM 3C §25.4, §27.3.1).
constexpr uint32_t kPassThroughMsrs[] = {0x174, 0x175, 0x176, 0xC0000080, 0xC0000100, 0xC0000101, 0x277};

mem::EngineFrames g_guest_frames;
const boot::BootInfo* g_bi;
alignas(ept::Ept) uint8_t g_ept_storage[kMaxGuests][sizeof(ept::Ept)];


const boot::LoadedFile* find_file(const boot::BootInfo& bi, const char* name) {
  for (uint32_t i = 0; i < bi.file_count; ++i)
    if (str_eq(bi.files[i].name, name)) return &bi.files[i];
  return nullptr;
}

// Guest RAM as the VMM writes it (guest.hpp ram_host: two ranges around the hole).
uint8_t* guest_bytes(Guest& g, uint64_t a) { return mem::phys_to_virt<uint8_t>(ram_host(g, a)); }

// Copies n bytes into guest RAM; the planner placed [a, a + n) inside one range.
bool put(Guest& g, uint64_t a, const void* src, uint64_t n) {
  if (n == 0) return true;
  if (!ram_contains(g, a, n)) return false;
  __builtin_memcpy(guest_bytes(g, a), src, n);
  return true;
}

size_t str_len(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

const uint8_t* file_bytes(const boot::LoadedFile& f) { return mem::phys_to_virt<const uint8_t>(f.phys); }

// The files a guest's boot modules come from, in order: for Linux and PVH
// its initrd; for Multiboot the initrd (if any) and then every `module =`.
struct BootModules {
  const boot::LoadedFile* file[gb::kMaxModules];
  const char* cmdline[gb::kMaxModules];  // Multiboot: after the file name; nullptr: none
  size_t count;
};
static_assert(core::kConfigMaxModules + 1 <= gb::kMaxModules);

bool find_modules(Guest& g, bool multiboot, BootModules& m) {
  const core::VmConfig& vc = *g.config;
  m = BootModules{};
  if (vc.initrd[0]) {
    m.file[0] = find_file(*g_bi, vc.initrd);
    if (!m.file[0]) {
      LOG_ERROR("vm %s: not created: its initrd %s is not in \\mamori\\ on the boot volume", g.name, vc.initrd);
      return false;
    }
    m.cmdline[0] = "";
    m.count = 1;
  }
  if (vc.module_count && !multiboot) {
    LOG_ERROR("vm %s: not created: module = lines are for Multiboot kernels; a Linux kernel takes initrd =", g.name);
    return false;
  }
  for (size_t i = 0; i < vc.module_count; ++i) {
    const boot::LoadedFile* f = find_file(*g_bi, vc.modules[i].file);
    if (!f) {
      LOG_ERROR("vm %s: not created: its module %s is not in \\mamori\\ on the boot volume", g.name, vc.modules[i].file);
      return false;
    }
    m.file[m.count] = f;
    m.cmdline[m.count] = vc.modules[i].cmdline;
    ++m.count;
  }
  return true;
}

// Multiboot module strings are "FILE args" (as GRUB passes them), the
// kernel's is "NAME args": guests read their options after the first word.
uint64_t joined_len(const char* first, const char* rest) {
  return str_len(first) + (rest && rest[0] ? 1 + str_len(rest) : 0);
}
void put_joined(Guest& g, uint64_t a, const char* first, const char* rest) {
  uint8_t* d = guest_bytes(g, a);
  size_t n = 0;
  for (const char* p = first; *p; ++p) d[n++] = static_cast<uint8_t>(*p);
  if (rest && rest[0]) {
    d[n++] = ' ';
    for (const char* p = rest; *p; ++p) d[n++] = static_cast<uint8_t>(*p);
  }
  d[n] = 0;
}

// The registers and segments of the protocol's entry state. Linux and PVH
// start with the boot GDT (kGdtGpa) loaded and its selectors (CS 0x10,
// data 0x18, TR 0x20: boot.rst "32-bit Boot Protocol"); Multiboot kernels
// keep the selectors they always had (CS 0x08, data 0x10, GDTR 0/0xFFFF):
// Multiboot 0.6.96 §3.2 leaves the values open and only asks for flat
// segments, which both give. vmx::setup_guest_flat_protected
// (scheduler.cpp) sets CR0 = PE|ET, paging and interrupts off.
void set_entry(Guest& g, const gb::EntryState& s, bool boot_gdt) {
  g.entry = s.eip;
  g.start = vmx::GuestStart{};
  g.start.rip = s.eip;
  if (boot_gdt) {
    g.start.code_selector = s.cs.selector;
    g.start.data_selector = s.ds.selector;
    g.start.tr_selector = s.tr.selector;
    g.start.gdtr_base = s.gdt_base;
    g.start.gdtr_limit = s.gdt_limit;
  }
  g.regs.rax = s.eax;
  g.regs.rbx = s.ebx;
  g.regs.rcx = s.ecx;
  g.regs.rdx = s.edx;
  g.regs.rsi = s.esi;
  g.regs.rdi = s.edi;
  g.regs.rbp = s.ebp;
}

bool refuse(Guest& g, const char* why, const char* detail = nullptr) {
  LOG_ERROR("vm %s: not created: its image %s %s%s%s", g.name, g.image, why, detail ? ": " : "", detail ? detail : "");
  return false;
}

// Copies the boot image, its modules, command lines and boot information
// into the guest's (zeroed) RAM and sets the entry registers, for the
// format identify() finds (docs/guest-abi.md "Boot formats").
bool load_image(Guest& g) {
  const boot::LoadedFile* f = find_file(*g_bi, g.image);
  if (!f) {
    LOG_ERROR("vm %s: not created: its image %s is not in \\mamori\\ on the boot volume", g.name, g.image);
    return false;
  }
  const uint8_t* data = file_bytes(*f);
  const size_t size = f->size;
  const gb::Identified id = gb::identify(data, size);
  if (id.kind == gb::ImageKind::Refused) {
    LOG_ERROR("vm %s: not created: its image %s is %s%s%s; %s", g.name, g.image, id.message,
              id.detail ? ": " : "", id.detail ? id.detail : "", gb::kAcceptedFormats);
    return false;
  }
  const bool linux = id.kind == gb::ImageKind::LinuxBzImage, pvh = id.kind == gb::ImageKind::PvhElf;
  BootModules mods;
  if (!find_modules(g, !linux && !pvh, mods)) return false;

  static core::ElfImage img;  // large; creation runs on the BSP only
  static gb::LinuxKernel lk;
  static core::Multiboot1Header mb;
  gb::PlanRequest req{};
  uint32_t entry = 0;
  uint64_t cmdline_len = str_len(g.cmdline);
  switch (id.kind) {
    case gb::ImageKind::LinuxBzImage: {
      gb::LinuxError e = gb::linux_parse(data, size, lk);
      if (e != gb::LinuxError::None) return refuse(g, "is a Linux kernel mamori cannot boot", gb::describe(e));
      gb::LinuxBootInputs in{cmdline_len, mods.count ? mods.file[0]->size : 0, 0, g.ram_bytes};
      req = gb::linux_plan_request(lk, in);
      break;
    }
    case gb::ImageKind::PvhElf:
    case gb::ImageKind::Multiboot1Elf64: {
      core::ElfPolicy policy;
      policy.entry_space = core::ElfEntrySpace::Physical;
      policy.min_paddr = gb::kHighRamStart;
      policy.max_paddr = g.low_ram;
      policy.max_total_memsz = g.low_ram;
      core::ElfError e = core::elf64_validate(data, size, policy, img);
      if (e != core::ElfError::None) return refuse(g, "is refused", core::describe(e));
      entry = static_cast<uint32_t>(img.entry);
      if (pvh) {
        gb::PvhError pe = gb::pvh_find_entry(data, size, img, entry);
        if (pe != gb::PvhError::None) return refuse(g, "has no usable PVH entry", gb::describe(pe));
      }
      break;
    }
    case gb::ImageKind::Multiboot1Elf32: {
      gb::Elf32Error e = gb::elf32_validate(data, size, gb::kHighRamStart, g.low_ram, img);
      if (e != gb::Elf32Error::None) return refuse(g, "is refused", gb::describe(e));
      entry = static_cast<uint32_t>(img.entry);
      break;
    }
    case gb::ImageKind::Multiboot1Kludge: {
      core::Multiboot1Error e = core::multiboot1_parse(data, size, mb);
      if (e != core::Multiboot1Error::None || !mb.has_addresses)
        return refuse(g, "has a bad Multiboot header", core::describe(e));
      entry = mb.entry_addr;
      break;
    }
    case gb::ImageKind::Refused: return false;
  }
  if (!linux) {
    // The kernel's span for the planner: its segments, or the a.out-kludge copy.
    if (id.kind == gb::ImageKind::Multiboot1Kludge) {
      req.kernel_base = mb.load_addr;
      req.kernel_span = static_cast<uint64_t>(mb.load_size) + mb.bss_size;
      if (entry < mb.load_addr || entry - mb.load_addr >= req.kernel_span)
        return refuse(g, "has a Multiboot entry outside what it loads");
    } else {
      req.kernel_base = img.paddr_low;
      req.kernel_span = img.paddr_high - img.paddr_low;
    }
    req.ram_bytes = g.ram_bytes;
    req.cmdline_len = pvh ? cmdline_len : joined_len(g.name, g.cmdline);
    req.module_count = mods.count;
    for (size_t i = 0; i < mods.count; ++i)
      req.modules[i] = gb::ModuleRequest{mods.file[i]->size, pvh ? 0 : joined_len(mods.file[i]->name, mods.cmdline[i])};
    // Multiboot's and hvm_start_info's module fields: below 4 GiB (32-bit
    // Multiboot fields; a PVH kernel starts with paging off).
    req.module_max_end = gb::k4G;
  }
  static gb::Plan plan;
  if (gb::PlanError e = gb::plan(req, plan); e != gb::PlanError::None)
    return refuse(g, "cannot be placed in its memory", gb::describe(e));

  // The kernel.
  if (linux) {
    if (!put(g, lk.load_address, data + lk.kernel_offset, lk.kernel_size))
      return refuse(g, "does not fit its memory");
  } else if (id.kind == gb::ImageKind::Multiboot1Kludge) {
    if (mb.file_offset > size || mb.load_size > size - mb.file_offset || !put(g, mb.load_addr, data + mb.file_offset, mb.load_size))
      return refuse(g, "has Multiboot load addresses outside the file or its memory");
  } else {
    for (size_t i = 0; i < img.segment_count; ++i) {
      const core::ElfSegment& s = img.segments[i];
      if (!put(g, s.paddr, data + s.offset, s.filesz)) return refuse(g, "has a segment outside its memory");  // the rest is zero already
    }
  }
  // Modules and command lines, where the plan put them.
  for (size_t i = 0; i < mods.count; ++i) {
    if (!put(g, plan.module_gpa[i], file_bytes(*mods.file[i]), mods.file[i]->size))
      return refuse(g, "cannot have its modules placed");
    if (!linux && !pvh) put_joined(g, plan.module_cmdline_gpa[i], mods.file[i]->name, mods.cmdline[i]);
  }
  if (linux || pvh) put(g, plan.cmdline_gpa, g.cmdline, cmdline_len + 1);
  else put_joined(g, plan.cmdline_gpa, g.name, g.cmdline);
  uint8_t gdt[gb::kGdtEntries * 8];
  gb::write_boot_gdt(gdt);
  put(g, gb::kGdtGpa, gdt, sizeof gdt);

  uint8_t* info = guest_bytes(g, gb::kBootInfoGpa);
  uint8_t* tables = guest_bytes(g, gb::kBootTablesGpa);
  if (linux) {
    gb::LinuxBootInputs in{cmdline_len, mods.count ? mods.file[0]->size : 0, 0, g.ram_bytes};
    gb::linux_write_boot_params(data, lk, in, plan, info);
    set_entry(g, gb::linux_entry_state(lk, gb::kBootInfoGpa, gb::kGdtGpa), true);
  } else if (pvh) {
    gb::PvhInputs in{cmdline_len, mods.count ? mods.file[0]->size : 0, 0};
    gb::pvh_write_start_info(in, plan, info, tables);
    set_entry(g, gb::pvh_entry_state(entry, gb::kBootInfoGpa, gb::kGdtGpa), true);
  } else {
    gb::MultibootInputs in{};
    in.module_count = mods.count;
    for (size_t i = 0; i < mods.count; ++i) in.module_sizes[i] = mods.file[i]->size;
    in.have_cmdline = true;
    gb::multiboot_write_info(in, plan, info, tables);
    set_entry(g, gb::multiboot_entry_state(entry, gb::kBootInfoGpa, gb::kGdtGpa), false);
  }
  LOG_DEBUG("vm %s: image %s: %s, entry 0x%x, %zu module(s)", g.name, g.image, id.message, static_cast<uint32_t>(g.entry),
            mods.count);
  g.boot_format = id.message;
  return true;
}

bool fail(Guest& g, const char* why) {
  LOG_ERROR("vm %s: not created: %s", g.name, why);
  g.state = GuestState::Empty;
  return false;
}

bool create(const core::VmConfig& vc, unsigned id, const boot::BootInfo& bi, const vmx::VmxCapabilities& caps) {
  Guest& g = guest_table()[id];
  g = Guest{};
  g.id = id;
  copy_str(g.name, vc.name, sizeof g.name);
  copy_str(g.image, vc.image, sizeof g.image);
  g.config = &vc;  // the parsed configuration lives as long as the VMM
  g.cmdline = vc.cmdline;
  static_assert(kMaxGuests >= core::kConfigMaxVms);
  g.console = vc.console;
  g.ram_bytes = vc.memory_bytes;
  g.low_ram = gb::low_ram_bytes(g.ram_bytes);
  g.high_ram = gb::high_ram_bytes(g.ram_bytes);

  // Placement: the lowest CPU of the list that can run guests.
  g.cpu = kMaxCpus;
  for (unsigned c = 0; c < g_cpu_count && c < 64; ++c)
    if ((vc.cpu_mask >> c) & 1) {
      if (g_cpus[c].state == CpuState::VmxRoot) { g.cpu = c; break; }
    }
  if (g.cpu == kMaxCpus) return fail(g, "none of its CPUs is online and VMX-ready (see 'cpus')");

  if (!find_file(bi, vc.image)) return fail(g, "its image is not in \\mamori\\ on the boot volume");
  g.ram_phys = mem::alloc_frames(g.ram_bytes / mem::kFrameSize, kFramesPer2M);
  if (!g.ram_phys) {
    const mem::Stats st = mem::stats();
    LOG_ERROR("vm %s: not created: its memory = %lu MiB is not available as one contiguous run (%lu MiB free in all)",
              g.name, g.ram_bytes >> 20, (st.free_frames * mem::kFrameSize) >> 20);
    g.state = GuestState::Empty;
    return false;
  }
  if (!load_image(g)) {
    g.state = GuestState::Empty;
    return false;
  }

  // EPT: all of its RAM, write-back, nothing else. Every other
  // guest-physical address (the VMM, other guests, devices) faults.
  ept::Options opt;
  opt.page_2m = caps.ept.pages_2m;
  opt.page_1g = caps.ept.pages_1g;
  opt.exec_only = caps.ept.execute_only;
  auto* ept = new (g_ept_storage[id]) ept::Ept(g_guest_frames, opt);
  if (ept->init() != ept::Status::ok) return fail(g, "out of memory for its EPT");
  // Its RAM below the MMIO hole, and the rest from 4 GiB (guest_boot/layout.hpp).
  const ept::Attr rwx_wb{ept::Perm::read | ept::Perm::write | ept::Perm::exec, ept::MemType::wb};
  ept::Result r = ept->map(0, g.ram_phys, g.low_ram, rwx_wb);
  if (r.ok() && g.high_ram) r = ept->map(gb::k4G, g.ram_phys + g.low_ram, g.high_ram, rwx_wb);
  if (!r.ok()) return fail(g, "its EPT could not be built");
  g.eptp = ept::eptp_of(*ept);
  g.ept_table_pages = ept->table_pages();

  g.vmcs = mem::alloc_frame();
  g.msr_bitmap = mem::alloc_frame();
  g.io_bitmap_a = mem::alloc_frame();
  g.io_bitmap_b = mem::alloc_frame();
  g.xsave_area = mem::alloc_frames(arch::fpu::area_frames(), 1);  // room for every component it may enable
  if (!g.vmcs || !g.msr_bitmap || !g.io_bitmap_a || !g.io_bitmap_b || !g.xsave_area)
    return fail(g, "out of memory for its VMX structures");
  vmx::MsrBitmap msrs(mem::phys_to_virt<uint8_t>(g.msr_bitmap));
  msrs.intercept_all();
  for (uint32_t m : kPassThroughMsrs) {
    msrs.set_read(m, false);
    msrs.set_write(m, false);
  }
  vmx::IoBitmap io(mem::phys_to_virt<uint8_t>(g.io_bitmap_a), mem::phys_to_virt<uint8_t>(g.io_bitmap_b));
  io.intercept_all();

  g.tpm = vc.tpm;
  g.tpm_crb = vc.tpm_interface == core::ConfigTpmInterface::Crb;
  if (g.tpm && !(g.tpm_crb ? attach_crb(g) : attach_tis(g))) return fail(g, "its TPM window could not be registered");
  g.state = GuestState::Runnable;  // guests start at boot
  LOG_INFO("vm %s: created: %lu MiB at host 0x%lx, image %s (%s) entry 0x%lx, cpu%u, EPT %lu table pages", g.name,
           g.ram_bytes >> 20, g.ram_phys, g.image, g.boot_format, g.entry, g.cpu, g.ept_table_pages);
  return true;
}
}  // namespace

bool reload_guest(Guest& g) {
  __builtin_memset(mem::phys_to_virt<void>(g.ram_phys), 0, g.ram_bytes);
  g.regs = arch::Gprs{};
  g.cr2 = 0;
  g.launched = false;
  g.vmcs_ready = false;
  g.slices = 0;
  g.xcr0 = 1;
  g.tpr = 0;
  g.exit_status = -1;
  g.stop_reason[0] = 0;
  g.line_len = 0;
  reset_tpm(g);  // a restarted guest finds its TPM as after a platform reset
  return load_image(g);
}

void create_guests(const boot::BootInfo& bi) {
  g_bi = &bi;
  set_vtpm_files(bi);
  const core::Config& cfg = platform::parsed_config();
  if (cfg.vm_count == 0) {
    LOG_INFO("vm: no [vm] sections in mamori.cfg: no guests");
    return;
  }
  const vmx::VmxCapabilities* caps = cpu_vmx::capabilities();
  if (!caps) {
    LOG_WARN("vm: %zu guests configured, but this machine cannot run them (no usable VMX)", cfg.vm_count);
    return;
  }
  for (size_t i = 0; i < cfg.vm_count && i < kMaxGuests; ++i) create(cfg.vms[i], static_cast<unsigned>(i), bi, *caps);
}

}  // namespace mamori::vm
