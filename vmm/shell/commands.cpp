#include "commands.hpp"
#include "drivers/timer/tsc.hpp"
#include "drivers/tpm/platform_tpm.hpp"
#include "vmm/platform/state_partition.hpp"
#include "vmm/console.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/panic.hpp"
#include "vmm/percpu.hpp"
#include "vmm/platform/acpi.hpp"
#include "vmm/platform/power.hpp"
#include "vmm/version.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::shell {
namespace {
const boot::BootInfo* g_bi;

bool cmd_help(int, const char**);

bool cmd_version(int argc, const char**) {
  if (argc != 1) return false;
  console::printf("mamori %s (%s), loader %s, BootInfo v%u\n", kVersion, kBuildFlavor, g_bi->loader_version,
                  g_bi->version);
  return true;
}

const char* state_name(CpuState s) {
  switch (s) {
    case CpuState::Absent: return "absent";
    case CpuState::Starting: return "starting";
    case CpuState::Online: return "online";
    case CpuState::VmxRoot: return "vmx-ready";
    case CpuState::NoVmx: return "no-vmx";
    case CpuState::Failed: return "failed";
    case CpuState::Stopped: return "stopped";
  }
  return "?";
}

bool cmd_cpus(int argc, const char**) {
  if (argc != 1) return false;
  console::printf("%u CPU(s), TSC %lu.%03lu MHz\n", g_cpu_count, drivers::tsc::hz() / 1000000,
                  drivers::tsc::hz() / 1000 % 1000);
  for (unsigned i = 0; i < g_cpu_count; ++i)
    console::printf("  cpu%u apic %u %-9s %s\n", i, g_cpus[i].apic_id, state_name(g_cpus[i].state),
                    g_cpus[i].vmx_report);
  return true;
}

bool cmd_mem(int argc, const char**) {
  if (argc != 1) return false;
  mem::Stats s = mem::stats();
  console::printf("frames: %lu total, %lu free, %lu used (4 KiB each; %lu MiB free)\n", s.total_frames,
                  s.free_frames, s.used_frames, s.free_frames * mem::kFrameSize >> 20);
  console::printf("vmm image: %lu KiB (of which data+bss %lu KiB) at phys 0x%lx\n", s.vmm_image_bytes >> 10,
                  s.vmm_static_bytes >> 10, g_bi->vmm_phys_base);
  return true;
}

bool cmd_acpi(int argc, const char**) {
  if (argc != 1) return false;
  platform::acpi_print();
  return true;
}

bool cmd_log(int argc, const char** argv) {
  if (argc == 1) {
    console::printf("log level: %s\n", log::name(log::level()));
    return true;
  }
  if (argc != 2) return false;
  log::Level l;
  if (!log::parse_level(argv[1], l)) {
    console::printf("unknown log level '%s': use debug, info, warn or error\n", argv[1]);
    return true;
  }
  log::set_level(l);
  console::printf("log level: %s\n", log::name(l));
  return true;
}

// Deliberate failures, so the panic and exception paths can be seen
// working (system-tested) before a real bug needs them.
bool cmd_panic(int argc, const char**) {
  if (argc != 1) return false;
  panic("requested from the shell ('panic' command)");
}

bool cmd_fault(int argc, const char**) {
  if (argc != 1) return false;
  console::printf("reading physical/virtual address 0 (unmapped on purpose)...\n");
  volatile uint64_t* null_page = reinterpret_cast<volatile uint64_t*>(static_cast<uintptr_t>(0));
  uint64_t v = *null_page;
  console::printf("read 0x%lx: page 0 is mapped, which it must not be\n", v);
  return true;
}

bool cmd_vmx(int argc, const char** argv) {
  if (argc != 2 || !lib::str_eq(argv[1], "caps")) return false;
  cpu_vmx::print_capture();
  return true;
}

bool cmd_tpm(int argc, const char** argv) {
  if (argc == 2 && lib::str_eq(argv[1], "info")) {
    drivers::tpm::platform_tpm_print();
    return true;
  }
  if (argc == 2 && lib::str_eq(argv[1], "state")) {
    platform::state_partition_print();
    return true;
  }
  // A test aid until vTPM state is stored (docs/storage.md): commits a boot counter record.
  if (argc == 3 && lib::str_eq(argv[1], "state") && lib::str_eq(argv[2], "commit-test")) {
    platform::state_partition_commit_test();
    return true;
  }
  return false;
}

bool cmd_reboot(int argc, const char**) {
  if (argc != 1) return false;
  platform::reboot();
}

bool cmd_poweroff(int argc, const char**) {
  if (argc != 1) return false;
  platform::poweroff();
}

}  // namespace
bool cmd_vm(int argc, const char** argv);
namespace {

const Command kCommands[] = {
    {"help", "", "list the commands", cmd_help},
    {"version", "", "mamori and loader versions", cmd_version},
    {"cpus", "", "CPUs, their state and VMX readiness", cmd_cpus},
    {"mem", "", "physical frames free/used, VMM footprint", cmd_mem},
    {"acpi", "", "ACPI tables, CPUs and the TPM2 table", cmd_acpi},
    {"tpm", "info | state [commit-test]", "platform TPM; state partition, slots (commit-test: test record)", cmd_tpm},
    {"log", "[debug|info|warn|error]", "show or set the log level", cmd_log},
    {"vmx", "caps", "print this CPU's VMX capability capture (docs/vmx.md)", cmd_vmx},
    {"vm", "list | info|regs|start|stop|console NAME", "guests: list, details, registers, control, attach", cmd_vm},
    {"panic", "", "stop the VMM through its panic path (testing)", cmd_panic},
    {"fault", "", "read address 0: exception path and null-page check (testing)", cmd_fault},
    {"reboot", "", "reset the machine", cmd_reboot},
    {"poweroff", "", "power the machine off", cmd_poweroff},
};

bool cmd_help(int argc, const char**) {
  if (argc != 1) return false;
  for (const Command& c : kCommands) console::printf("  %-9s %-40s %s\n", c.name, c.usage, c.help);
  return true;
}
}  // namespace

void commands_init(const boot::BootInfo& bi) { g_bi = &bi; }

const Command* commands(size_t& count) {
  count = sizeof(kCommands) / sizeof(kCommands[0]);
  return kCommands;
}

}  // namespace mamori::shell
