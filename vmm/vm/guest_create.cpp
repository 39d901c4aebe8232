#include "guest_create.hpp"
#include <new>
#include "ept/ept.hpp"
#include "drivers/timer/tsc.hpp"
#include "devices/acpi/guest_tables.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/core/config.hpp"
#include "vmm/guest_boot/entry_state.hpp"
#include "vmm/guest_boot/layout.hpp"
#include "vmm/guest_boot/load.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/log.hpp"
#include "vmm/measure/launch.hpp"
#include "vmm/mem/engine_frames.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/percpu.hpp"
#include "vmm/platform/config.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/virtual_platform.hpp"
#include "vmm/version.hpp"
#include "vmm/vm/vtpm_attach.hpp"
#include "vmx/bitmaps.hpp"
#include "vmm/lib/spinlock.hpp"
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

const uint8_t* file_bytes(const boot::LoadedFile& f) { return mem::phys_to_virt<const uint8_t>(f.phys); }

// Guest RAM for the boot loader code: its two ranges (guest.hpp ram_host).
class RamWriter final : public gb::GuestRamWriter {
 public:
  explicit RamWriter(Guest& g) : g_(g) {}
  uint8_t* bytes(uint64_t gpa, uint64_t n) override {
    return ram_contains(g_, gpa, n) ? mem::phys_to_virt<uint8_t>(ram_host(g_, gpa)) : nullptr;
  }

 private:
  Guest& g_;
};

// The entry state's registers, and for Linux/PVH the boot GDT's
// selectors and GDTR; Multiboot kernels keep the selectors they always had
// (CS 0x08, data 0x10, GDTR 0/0xFFFF: Multiboot 0.6.96 §3.2 leaves them
// open and asks only for flat segments). vmx::setup_guest_flat_protected
// (scheduler.cpp) gives CR0 = PE|ET with paging and interrupts off.
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

const boot::LoadedFile* find_or_report(Guest& g, const char* what, const char* name) {
  const boot::LoadedFile* f = find_file(*g_bi, name);
  if (!f) LOG_ERROR("vm %s: not created: its %s %s is not in \\mamori\\ on the boot volume", g.name, what, name);
  return f;
}

gb::BootFile boot_file(const boot::LoadedFile& f, const char* args) { return {file_bytes(f), f.size, f.name, args}; }

// Copies the kernel, its initrd/modules, command lines and boot
// information into the guest's (zeroed) RAM and sets the entry state, for
// the format identify() finds (vmm/guest_boot/load.hpp, docs/guest-abi.md).
bool load_image(Guest& g) {
  const core::VmConfig& vc = *g.config;
  static gb::BootRequest req;  // large; creation and restarts run on the BSP only
  req = gb::BootRequest{};
  req.vm_name = g.name;
  req.cmdline = g.cmdline;
  req.ram_bytes = g.ram_bytes;
  // Its RSDP, where its virtual platform builds the ACPI tables (at
  // creation and at every reset, virtual_platform.cpp write_acpi_tables):
  // boot_params.acpi_rsdp_addr / hvm_start_info.rsdp_paddr.
  static_assert(devices::acpi::kDefaultTablesGpa == gb::kAcpiBase);
  req.acpi_rsdp = devices::acpi::kDefaultTablesGpa;
  const boot::LoadedFile* k = find_or_report(g, "image", g.image);
  if (!k) return false;
  req.kernel = boot_file(*k, nullptr);
  if (vc.initrd[0]) {
    const boot::LoadedFile* f = find_or_report(g, "initrd", vc.initrd);
    if (!f) return false;
    req.initrd = boot_file(*f, nullptr);
  }
  static_assert(core::kConfigMaxModules + 1 <= gb::kMaxModules);
  for (size_t i = 0; i < vc.module_count; ++i) {
    const boot::LoadedFile* f = find_or_report(g, "module", vc.modules[i].file);
    if (!f) return false;
    req.modules[req.module_count++] = boot_file(*f, vc.modules[i].cmdline);
  }
  RamWriter ram(g);
  const gb::BootResult r = gb::load_boot_image(req, ram);
  if (r.error == gb::LoadError::Refused) {
    LOG_ERROR("vm %s: not created: its image %s is %s%s%s; %s", g.name, g.image, r.message, r.detail ? ": " : "",
              r.detail ? r.detail : "", gb::kAcceptedFormats);
    return false;
  }
  if (r.error != gb::LoadError::None) {
    LOG_ERROR("vm %s: not created: its image %s (%s): %s%s%s", g.name, g.image, r.format, r.message,
              r.detail ? ": " : "", r.detail ? r.detail : "");
    return false;
  }
  set_entry(g, r.entry, r.boot_gdt);
  g.boot_format = r.format;
  for (size_t i = 0; i < r.module_count; ++i)
    LOG_DEBUG("vm %s: module %zu at 0x%lx", g.name, i, r.module_gpa[i]);
  return true;
}

measure::FileDigestCache g_digests;  // the boot volume's files never change
measure::Banks g_banks[kMaxGuests];  // of each measured guest's TPM
// A guest's reset measures it on its vCPU 0's CPU (exits.cpp
// platform_reset), so two may run at once: one lock for the cache and the
// inputs below.
lib::Spinlock g_measure_lock;

// What its measured launch measures: the same files load_image loaded,
// its [vm] section and command lines. False when its image is missing
// (load_image has refused it then).
bool launch_inputs(const Guest& g, measure::LaunchInputs& in) {
  const core::VmConfig& vc = *g.config;
  in = measure::LaunchInputs{};
  in.cache = &g_digests;
  in.version = kVersion;
  if (!measure::config_section(mem::phys_to_virt<const char>(g_bi->config), g_bi->config_size, vc.line,
                               in.config_section, in.config_section_len)) {
    in.config_section = "";
    in.config_section_len = 0;
  }
  const boot::LoadedFile* k = find_file(*g_bi, g.image);
  if (!k) return false;
  in.kernel = {file_bytes(*k), k->size, k->name, g.cmdline};
  const boot::LoadedFile* f = vc.initrd[0] ? find_file(*g_bi, vc.initrd) : nullptr;
  if (f) in.modules[in.module_count++] = {file_bytes(*f), f->size, f->name, nullptr};
  static_assert(core::kConfigMaxModules + 1 <= measure::kLaunchMaxModules);
  for (size_t i = 0; i < vc.module_count; ++i)
    if ((f = find_file(*g_bi, vc.modules[i].file)))
      in.modules[in.module_count++] = {file_bytes(*f), f->size, f->name, vc.modules[i].cmdline};
  return true;
}

// Its measured launch (docs/measured-launch.md): before its first
// instruction, as firmware would, the VMM starts its TPM and extends what
// it boots into every PCR bank, with the event log in its reserved area
// at kTpmLogGpa. A guest whose TPM has no engine, or whose measurement
// fails, runs unmeasured (PCRs zero) with no log advertised, and the
// console says why.
void measure_launch_of(Guest& g) {
  g.tpm_log_gpa = gb::kTpmLogGpa;
  g.tpm_log_bytes = 0;
  vtpm::TpmBackend* tpm = vtpm_engine(g);
  lib::LockGuard lock(g_measure_lock);
  static measure::LaunchInputs in;  // large: one, under the lock
  if (!tpm || !launch_inputs(g, in)) return;
  static_assert(gb::kTpmLogSize <= 0xFFFFFFFFu);
  if (!ram_contains(g, gb::kTpmLogGpa, gb::kTpmLogSize)) return;
  const uint64_t t0 = cpu::rdtsc();
  const measure::LaunchResult r =
      measure::measure_launch(*tpm, in, mem::phys_to_virt<uint8_t>(ram_host(g, gb::kTpmLogGpa)), gb::kTpmLogSize);
  const uint64_t cycles = cpu::rdtsc() - t0, hz = drivers::tsc::hz();
  if (r.error != measure::LaunchError::None) {
    LOG_ERROR("vm %s: its launch is not measured: %s (rc 0x%x%s%s): its PCRs stay as they are, no event log", g.name,
              measure::describe(r.error), r.rc, r.error == measure::LaunchError::Banks ? ", " : "",
              r.error == measure::LaunchError::Banks ? measure::describe(r.banks_status) : "");
    return;
  }
  g.tpm_log_bytes = static_cast<uint32_t>(gb::kTpmLogSize);
  g_banks[g.id] = r.banks;
  uint64_t bytes = in.kernel.size;
  for (size_t i = 0; i < in.module_count; ++i) bytes += in.modules[i].size;
  LOG_INFO("vm %s: measured launch: %zu events in %zu PCR banks, %zu bytes of event log at 0x%lx; %lu KiB hashed and "
           "extended in %lu ms",
           g.name, r.events, r.banks.count, r.log_bytes, gb::kTpmLogGpa, bytes >> 10, hz ? cycles * 1000 / hz : 0);
}

bool fail(Guest& g, const char* why) {
  LOG_ERROR("vm %s: not created: %s", g.name, why);
  for (unsigned i = 1; i < g.vcpu_count; ++i) guest_table()[g.vcpu_slot[i]].state = GuestState::Empty;
  g.state = GuestState::Empty;
  return false;
}

// Slots for APs come after those of the configured guests (a guest's slot
// is its index in mamori.cfg).
unsigned g_next_ap_slot;

// vCPU n of `g` on CPU `cpu`: its own slot, sharing the guest's memory;
// its VMX structures, devices and start come later (create()).
bool add_ap(Guest& g, unsigned cpu) {
  if (g.vcpu_count == kMaxVcpus || g_next_ap_slot >= kMaxGuests) return false;
  const unsigned slot = g_next_ap_slot++;
  Guest& a = guest_table()[slot];
  new (&a) Guest();  // (not `a = Guest{}`: a temporary this large trips GCC 12)
  a.id = slot;
  a.vcpu = g.vcpu_count;
  a.vm_slot = g.id;
  copy_str(a.name, g.name, sizeof a.name);
  copy_str(a.image, g.image, sizeof a.image);
  a.config = g.config;
  a.cmdline = g.cmdline;
  a.console = g.console;
  a.exit_port = g.exit_port;
  a.cpu = cpu;
  a.wait_sipi = true;  // SDM 3A §9.4.2: an AP waits for SIPI after RESET
  a.state = GuestState::Created;
  g.vcpu_slot[g.vcpu_count++] = slot;
  return true;
}

// The AP slots get what they share with vCPU 0 once it exists (RAM, EPT,
// bitmaps, the TPM window) and their own VMCS and extended-state area.
bool finish_aps(Guest& g) {
  for (unsigned i = 1; i < g.vcpu_count; ++i) {
    Guest& a = guest_table()[g.vcpu_slot[i]];
    a.ram_phys = g.ram_phys;
    a.ram_bytes = g.ram_bytes;
    a.low_ram = g.low_ram;
    a.high_ram = g.high_ram;
    a.boot_format = g.boot_format;
    a.eptp = g.eptp;
    a.ept_table_pages = g.ept_table_pages;
    a.msr_bitmap = g.msr_bitmap;  // read-only after creation: one set for all vCPUs
    a.io_bitmap_a = g.io_bitmap_a;
    a.io_bitmap_b = g.io_bitmap_b;
    a.tpm = g.tpm;
    a.tpm_crb = g.tpm_crb;
    for (unsigned r = 0; r < g.mmio_count; ++r) a.mmio[r] = g.mmio[r];  // the TPM window, if any
    a.mmio_count = g.mmio_count;
    a.vmcs = mem::alloc_frame();
    a.xsave_area = mem::alloc_frames(arch::fpu::area_frames(), 1);
    if (!a.vmcs || !a.xsave_area) return false;
  }
  return true;
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
  g.exit_port = vc.exit_port;
  g.ram_bytes = vc.memory_bytes;
  g.low_ram = gb::low_ram_bytes(g.ram_bytes);
  g.high_ram = gb::high_ram_bytes(g.ram_bytes);

  // Placement: one vCPU per CPU of its list that can run guests, vCPU 0
  // on the lowest (docs/scheduling.md).
  g.cpu = kMaxCpus;
  g.vm_slot = id;
  g.vcpu_slot[0] = id;
  for (unsigned c = 0; c < 64; ++c) {
    if (!((vc.cpu_mask >> c) & 1)) continue;
    if (c >= g_cpu_count || g_cpus[c].state != CpuState::VmxRoot) {
      LOG_WARN("vm %s: cpu%u of its list is not online and VMX-ready (see 'cpus'): no vCPU there", g.name, c);
      continue;
    }
    if (g.cpu == kMaxCpus) g.cpu = c;
    else if (!add_ap(g, c))
      LOG_WARN("vm %s: no slot for a vCPU on cpu%u (at most %u vCPUs a guest, %u in all): it gets %u", g.name, c,
               kMaxVcpus, kMaxGuests, g.vcpu_count);
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
  if (!finish_aps(g)) return fail(g, "out of memory for its vCPUs' VMX structures");
  measure_launch_of(g);  // before its ACPI tables, which advertise the log
  if (!create_platform(g)) return fail(g, "its virtual platform could not be built");
  for (unsigned i = 1; i < g.vcpu_count; ++i) {
    Guest& a = guest_table()[g.vcpu_slot[i]];
    a.acpi_rsdp = g.acpi_rsdp;
    a.state = GuestState::Runnable;  // scheduled once its LAPIC got INIT-SIPI-SIPI (vm/scheduler.cpp)
  }
  g.state = GuestState::Runnable;  // guests start at boot
  LOG_INFO("vm %s: created: %lu MiB at host 0x%lx, image %s (%s) entry 0x%lx, cpu%u, EPT %lu table pages", g.name,
           g.ram_bytes >> 20, g.ram_phys, g.image, g.boot_format, g.entry, g.cpu, g.ept_table_pages);
  for (unsigned i = 1; i < g.vcpu_count; ++i)
    LOG_INFO("vm %s: vcpu%u on cpu%u (APIC ID %u), waiting for INIT-SIPI-SIPI", g.name, i,
             guest_table()[g.vcpu_slot[i]].cpu, i);
  return true;
}
}  // namespace

bool reload_guest(Guest& g) {
  // Its APs park themselves in wait-for-SIPI when they see the new epoch
  // (vm/scheduler.cpp), and their LAPICs are reset below.
  g.reset_epoch = g.reset_epoch + 1;
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
  if (!load_image(g)) return false;
  measure_launch_of(g);  // measured again, as firmware does at every boot
  return true;
}

bool launch_measurements(const Guest& g, measure::EventSink& sink, measure::Banks& banks) {
  lib::LockGuard lock(g_measure_lock);
  static measure::LaunchInputs in;  // the shell's, apart from measure_launch_of's
  if (!g.tpm_log_bytes || !launch_inputs(g, in)) return false;
  banks = g_banks[g.id];
  return measure::launch_events(in, banks, sink);
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
  g_next_ap_slot = static_cast<unsigned>(cfg.vm_count < kMaxGuests ? cfg.vm_count : kMaxGuests);
  for (size_t i = 0; i < cfg.vm_count && i < kMaxGuests; ++i) create(cfg.vms[i], static_cast<unsigned>(i), bi, *caps);
}

}  // namespace mamori::vm
