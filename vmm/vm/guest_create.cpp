#include "guest_create.hpp"
#include <new>
#include "ept/ept.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/core/config.hpp"
#include "vmm/core/elf64.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/engine_frames.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/percpu.hpp"
#include "vmm/platform/config.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/virtual_platform.hpp"
#include "vmm/vm/vtpm_attach.hpp"
#include "vmx/bitmaps.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::vm {
namespace {
using lib::copy_str;
using lib::str_eq;
constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t kFramesPer2M = k2M / mem::kFrameSize;
constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;  // Multiboot 0.6.96 §3.2

// Multiboot 0.6.96 §3.3: the information structure (the fields we fill).
struct [[gnu::packed]] MultibootInfo {
  uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  uint32_t syms[4];
  uint32_t mmap_length, mmap_addr;
};
struct [[gnu::packed]] MultibootMmapEntry {
  uint32_t size;  // of the rest of the entry (20)
  uint64_t base, length;
  uint32_t type;  // 1 = available RAM
};
constexpr uint32_t kMbiMem = 1u << 0, kMbiCmdline = 1u << 2, kMbiMmap = 1u << 6;
constexpr uint64_t kLowMemEnd = 0xA0000;  // conventional memory ends at 640 KiB

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

template <typename T>
T* gpa(Guest& g, uint64_t a) { return mem::phys_to_virt<T>(g.ram_phys + a); }

void write_multiboot(Guest& g) {
  auto* mbi = gpa<MultibootInfo>(g, kMultibootInfoGpa);
  *mbi = MultibootInfo{};
  mbi->flags = kMbiMem | kMbiCmdline | kMbiMmap;
  mbi->mem_lower = kLowMemEnd / 1024;
  mbi->mem_upper = static_cast<uint32_t>((g.ram_bytes - kGuestImageMinGpa) / 1024);
  // "NAME options...": guests read their options after the first word.
  char* cl = gpa<char>(g, kMultibootCmdlineGpa);
  size_t n = 0;
  for (const char* p = g.name; *p; ++p) cl[n++] = *p;
  if (g.cmdline[0]) {
    cl[n++] = ' ';
    for (const char* p = g.cmdline; *p; ++p) cl[n++] = *p;
  }
  cl[n] = 0;
  mbi->cmdline = kMultibootCmdlineGpa;
  auto* mm = gpa<MultibootMmapEntry>(g, kMultibootMmapGpa);
  mm[0] = MultibootMmapEntry{20, 0, kLowMemEnd, 1};
  mm[1] = MultibootMmapEntry{20, kGuestImageMinGpa, g.ram_bytes - kGuestImageMinGpa, 1};
  mbi->mmap_addr = kMultibootMmapGpa;
  mbi->mmap_length = 2 * sizeof(MultibootMmapEntry);
}

// Copies the image's segments into the guest's (zeroed) RAM and writes
// the Multiboot structures and the entry registers.
bool load_image(Guest& g) {
  const boot::LoadedFile* f = find_file(*g_bi, g.image);
  if (!f) {
    LOG_ERROR("vm %s: not created: its image %s is not in \\mamori\\ on the boot volume", g.name, g.image);
    return false;
  }
  core::ElfPolicy policy;
  policy.entry_space = core::ElfEntrySpace::Physical;
  policy.min_paddr = kGuestImageMinGpa;
  policy.max_paddr = g.ram_bytes;
  policy.max_total_memsz = g.ram_bytes;
  static core::ElfImage img;  // large; creation runs on the BSP only
  core::ElfError e = core::elf64_validate(mem::phys_to_virt<uint8_t>(f->phys), f->size, policy, img);
  if (e != core::ElfError::None) {
    LOG_ERROR("vm %s: image %s refused: %s", g.name, g.image, core::describe(e));
    return false;
  }
  g.entry = img.entry;

  for (size_t i = 0; i < img.segment_count; ++i) {
    const core::ElfSegment& s = img.segments[i];
    auto* dst = gpa<uint8_t>(g, s.paddr);
    const auto* src = mem::phys_to_virt<uint8_t>(f->phys + s.offset);
    __builtin_memcpy(dst, src, s.filesz);  // the rest is zero already
  }
  write_multiboot(g);
  g.regs.rax = kMultibootBootloaderMagic;
  g.regs.rbx = kMultibootInfoGpa;

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
  copy_str(g.cmdline, vc.cmdline, sizeof g.cmdline);
  static_assert(sizeof(Guest::cmdline) >= core::kConfigCmdlineCap);
  static_assert(kMaxGuests >= core::kConfigMaxVms);
  static_assert(kMultibootMmapGpa - kMultibootInfoGpa >= sizeof(MultibootInfo));
  g.console = vc.console;
  g.ram_bytes = vc.memory_bytes;

  // Placement: the lowest CPU of the list that can run guests.
  g.cpu = kMaxCpus;
  for (unsigned c = 0; c < g_cpu_count && c < 64; ++c)
    if ((vc.cpu_mask >> c) & 1) {
      if (g_cpus[c].state == CpuState::VmxRoot) { g.cpu = c; break; }
    }
  if (g.cpu == kMaxCpus) return fail(g, "none of its CPUs is online and VMX-ready (see 'cpus')");

  if (!find_file(bi, vc.image)) return fail(g, "its image is not in \\mamori\\ on the boot volume");
  g.ram_phys = mem::alloc_frames(g.ram_bytes / mem::kFrameSize, kFramesPer2M);
  if (!g.ram_phys) return fail(g, "not enough contiguous memory for its RAM");
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
  ept::Result r = ept->map(0, g.ram_phys, g.ram_bytes,
                           {ept::Perm::read | ept::Perm::write | ept::Perm::exec, ept::MemType::wb});
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
  if (!create_platform(g)) return fail(g, "its virtual platform could not be built");
  g.state = GuestState::Runnable;  // guests start at boot
  LOG_INFO("vm %s: created: %lu MiB at host 0x%lx, image %s entry 0x%lx, cpu%u, EPT %lu table pages", g.name,
           g.ram_bytes >> 20, g.ram_phys, g.image, g.entry, g.cpu, g.ept_table_pages);
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
  g.halted = false;
  if (g.platform) reset_platform(g);
  g.msrs = VcpuMsrs{};  // its MSRs as at reset (loaded again at its next entry)
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
