// The VMM's boot sequence on the bootstrap processor (docs/boot.md), and
// the application processors' entry.
#include "boot/bootinfo.hpp"
#include "drivers/lapic/lapic.hpp"
#include "drivers/timer/tsc.hpp"
#include "drivers/tpm/platform_tpm.hpp"
#include "drivers/tpm/tpm_probe.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/descriptors.hpp"
#include "vmm/console.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/address_space.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/panic.hpp"
#include "vmm/percpu.hpp"
#include "vmm/platform/acpi.hpp"
#include "vmm/platform/config.hpp"
#include "vmm/platform/power.hpp"
#include "vmm/platform/state_partition.hpp"
#include "vmm/shell/commands.hpp"
#include "vmm/shell/shell.hpp"
#include "vmm/smp/smp.hpp"
#include "vmm/partition/process.hpp"
#include "vmm/version.hpp"
#include "vmm/vm/guest_create.hpp"
#include "vmm/vm/scheduler.hpp"

extern "C" uintptr_t __stack_chk_guard;
extern "C" char __bss_start[], __bss_end[];
extern "C" void (*__init_array_start[])(), (*__init_array_end[])();

namespace mamori {
namespace {
constexpr uint16_t kDefaultConsolePort = 0x3F8;  // COM1
constexpr uint32_t kDefaultBaud = 115200;
constexpr uint64_t kApVmxWaitUs = 30000000;  // generous: emulators under load

// Stage markers: the bench counts emulated instructions between them.
void stage(const char* name) { LOG_INFO("stage: %s", name); }

void reseed_stack_guard() {
  uint64_t seed = cpu::rdtsc(), r;
  if (cpu::has_rdrand() && cpu::rdrand64(r, 10)) seed ^= r;
  __stack_chk_guard ^= seed;
}

bool g_guests_ready;

// Supervisor-mode protections of VMX root (SDM 3A §4.6, §2.5): SMEP (ring 0
// never executes a user page), SMAP (ring 0 never reads or writes one: the
// VMM copies to and from processes through its direct map, never through
// user addresses, so no STAC window exists), UMIP (ring 3 cannot SGDT/SIDT/
// SLDT/SMSW/STR the VMM's table addresses). CR4.FSGSBASE stays clear: ring 3
// cannot WRGSBASE (docs/security.md). Each only where CPUID has it and, in
// VMX operation, where IA32_VMX_CR4_FIXED1 allows it (SDM 3D §A.8).
void enable_supervisor_protections(unsigned cpu_index) {
  constexpr uint64_t kCr4Umip = 1ull << 11, kCr4Fsgsbase = 1ull << 16, kCr4Smep = 1ull << 20, kCr4Smap = 1ull << 21;
  constexpr uint32_t kLeaf7EbxSmep = 1u << 7, kLeaf7EbxSmap = 1u << 20, kLeaf7EcxUmip = 1u << 2;
  constexpr uint32_t kCpuid1EcxVmx = 1u << 5, kVmxCr4Fixed1 = 0x489;
  uint64_t want = 0;
  if (cpu::cpuid(0).eax >= 7) {
    cpu::CpuidResult l7 = cpu::cpuid(7, 0);
    if (l7.ebx & kLeaf7EbxSmep) want |= kCr4Smep;
    if (l7.ebx & kLeaf7EbxSmap) want |= kCr4Smap;
    if (l7.ecx & kLeaf7EcxUmip) want |= kCr4Umip;
  }
  if (cpu::cpuid(1).ecx & kCpuid1EcxVmx) want &= cpu::rdmsr(kVmxCr4Fixed1);
  uint64_t cr4 = (cpu::read_cr4() & ~kCr4Fsgsbase) | want;
  cpu::write_cr4(cr4);
  if (cpu_index == 0)
    LOG_INFO("cpu0: ring-0 protections: SMEP %s, SMAP %s, UMIP %s, FSGSBASE off (ring 3 cannot WRGSBASE)",
             (cr4 & kCr4Smep) ? "on" : "off (not in this CPU)", (cr4 & kCr4Smap) ? "on" : "off (not in this CPU)",
             (cr4 & kCr4Umip) ? "on" : "off (not in this CPU)");
}

void wait_for_aps() {
  uint64_t end = cpu::rdtsc() + drivers::tsc::hz() / 1000000 * kApVmxWaitUs;
  for (unsigned i = 1; i < g_cpu_count; ++i) {
    while (__atomic_load_n(&g_cpus[i].state, __ATOMIC_ACQUIRE) == CpuState::Online && cpu::rdtsc() < end) cpu::pause();
    if (__atomic_load_n(&g_cpus[i].state, __ATOMIC_ACQUIRE) == CpuState::Online)
      LOG_WARN("cpu%u: no VMX verdict yet: still working on it", i);
  }
}
}  // namespace
}  // namespace mamori

using namespace mamori;

// Stack canaries need a frame whose guard does not change under it: the
// entry function re-seeds the guard and so must not be protected itself.
extern "C" [[noreturn]] __attribute__((optimize("no-stack-protector"))) void vmm_main(uint64_t bootinfo_phys) {
  uint64_t entry_tsc = cpu::rdtsc();
  // The loader zeroed .bss (memsz > filesz) when it placed the image;
  // global constructors run here, before anything uses a global.
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  console::init(kDefaultConsolePort, kDefaultBaud);
  console::printf("\nmamori %s: VMM entered\n", kVersion);
  auto& bi = *reinterpret_cast<const boot::BootInfo*>(bootinfo_phys);
  if (bi.magic != boot::kBootInfoMagic || bi.version != boot::kBootInfoVersion || bi.size != sizeof(boot::BootInfo)) {
    console::printf("mamori: FATAL: BootInfo mismatch (magic %lx version %u size %u, expected version %u size %u): "
                    "loader and VMM are from different builds\n",
                    bi.magic, bi.version, bi.size, boot::kBootInfoVersion, static_cast<unsigned>(sizeof(boot::BootInfo)));
    cpu::halt_forever();
  }
  PerCpu& bsp = g_cpus[0];
  bsp.index = 0;
  arch::load_descriptors(0);
  percpu_install(bsp);
  reseed_stack_guard();

  platform::Config cfg;
  const char* cfg_error = platform::config_load(bi, cfg);
  if (cfg.console_port != kDefaultConsolePort || cfg.console_baud != kDefaultBaud) {
    LOG_INFO("console: moving to port 0x%x at %u baud as mamori.cfg asks", cfg.console_port, cfg.console_baud);
    if (!console::init(cfg.console_port, cfg.console_baud)) {
      console::init(kDefaultConsolePort, kDefaultBaud);
      LOG_ERROR("console: no UART at port 0x%x: staying on COM1", cfg.console_port);
    }
  }
  log::set_level(cfg.log_level);
  if (cfg_error) LOG_ERROR("config: %s (using defaults for the rest)", cfg_error);
  LOG_INFO("mamori %s on %s, BootInfo v%u from loader %s", kVersion, kBuildFlavor, bi.version, bi.loader_version);
  LOG_INFO("stage: entry at tsc %lu (loader left the firmware at tsc %lu)", entry_tsc, bi.tsc_at_exit_boot_services);
  stage("console");

  drivers::tsc::calibrate();
  LOG_INFO("tsc: %lu kHz", drivers::tsc::hz() / 1000);
  if (!mem::init(bi)) panic("no usable memory map: cannot continue");
  mem::build_address_space(bi);
  enable_supervisor_protections(0);
  platform::power_init(bi);
  stage("memory");

  const platform::AcpiInfo& acpi = platform::acpi_init(bi.rsdp);
  stage("acpi");

  drivers::tpm::ProbeResult tpm = drivers::tpm::probe();
  if (tpm.interface == drivers::tpm::Interface::None)
    LOG_WARN("tpm: no TPM at 0x%lx%s", drivers::tpm::kTpmBase,
             acpi.tpm2_present ? " although the ACPI TPM2 table announces one" : "");
  else
    LOG_INFO("tpm: %s TPM at 0x%lx: DID_VID 0x%04x%04x, RID 0x%02x, interface id 0x%08x",
             drivers::tpm::interface_name(tpm.interface), drivers::tpm::kTpmBase, tpm.device_id, tpm.vendor_id,
             tpm.revision, tpm.interface_id);
  drivers::tpm::platform_tpm_init(acpi.tpm2_present, acpi.tpm2_start_method, acpi.tpm2_control_area);
  stage("tpm");

  platform::state_partition_init();
  stage("storage");

  drivers::lapic::init();
  bsp.apic_id = drivers::lapic::id();
  bsp.state = CpuState::Online;
  LOG_INFO("cpu0: bootstrap processor, APIC id %u (%s)", bsp.apic_id,
           drivers::lapic::x2apic_mode() ? "x2APIC" : "xAPIC");
  unsigned online = 1;
  if (acpi.valid && acpi.cpu_count > 0) {
    if (acpi.cpu_count > 1) online = smp::start_aps(acpi.apic_ids, acpi.cpu_count);
  } else {
    online = smp::start_aps(nullptr, 0);
  }
  stage("cpus");

  cpu_vmx::bring_up_this_cpu(true);
  wait_for_aps();
  unsigned vmx_ready = 0;
  for (unsigned i = 0; i < g_cpu_count; ++i) vmx_ready += g_cpus[i].state == CpuState::VmxRoot;
  stage("vmx");
  if (vmx_ready == online) LOG_INFO("mamori: %u CPUs online, all %u entered and left VMX root operation", online, vmx_ready);
  else LOG_WARN("mamori: %u CPUs online, %u VMX-capable: guests cannot run where VMX is missing (see 'cpus')", online, vmx_ready);

  partition::init_partition_cpu(0);  // guests' vTPM engines start on the BSP
  vm::create_guests(bi);
  __atomic_store_n(&g_guests_ready, true, __ATOMIC_RELEASE);
  stage("guests");
  shell::commands_init(bi);
  shell::start(bi);
  vm::cpu_loop(true);
}

extern "C" [[noreturn]] void ap_main(uint64_t index) {
  using mamori::g_guests_ready;
  PerCpu& me = g_cpus[index];
  me.index = static_cast<uint32_t>(index);
  mem::load_pat();
  // An AP leaves INIT with caches disabled (CR0.CD/NW set, SDM 3A §9.1.1
  // Table 9-1) and without SSE enabled: give it what the BSP has from the
  // firmware, so guests and the service partition find the same CPU.
  constexpr uint64_t kCr0Mp = 1ull << 1, kCr0Em = 1ull << 2, kCr0Ts = 1ull << 3, kCr0Ne = 1ull << 5;
  constexpr uint64_t kCr0Nw = 1ull << 29, kCr0Cd = 1ull << 30;
  constexpr uint64_t kCr4Osfxsr = 1ull << 9, kCr4Osxmmexcpt = 1ull << 10;
  cpu::write_cr0((cpu::read_cr0() & ~(kCr0Cd | kCr0Nw | kCr0Em | kCr0Ts)) | kCr0Mp | kCr0Ne);
  asm volatile("wbinvd" ::: "memory");
  cpu::write_cr4(cpu::read_cr4() | kCr4Osfxsr | kCr4Osxmmexcpt);
  arch::load_descriptors(static_cast<unsigned>(index));
  percpu_install(me);
  enable_supervisor_protections(static_cast<unsigned>(index));
  drivers::lapic::init();
  me.apic_id = drivers::lapic::id();
  __atomic_store_n(&me.state, CpuState::Online, __ATOMIC_RELEASE);
  LOG_INFO("cpu%lu: application processor online, APIC id %u", index, drivers::lapic::id());
  cpu_vmx::bring_up_this_cpu(false);
  // Wait until the BSP has created the guests, then run those pinned here.
  while (!__atomic_load_n(&g_guests_ready, __ATOMIC_ACQUIRE)) cpu::pause();
  vm::cpu_loop(false);
}
