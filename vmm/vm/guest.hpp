// A guest: its RAM, EPT, VMCS, bitmaps, registers, console and statistics.
// Guests live in a fixed table (no allocation on exit paths); each is
// pinned to one CPU because its VMCS host state is that CPU's (GDT, TSS,
// GS base).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "vmm/vm/guest_regs.hpp"
#include "vmm/guest_boot/layout.hpp"
#include "vmm/vm/mmio.hpp"
#include "vmm/vm/vcpu_msrs.hpp"
#include "vmx/vmcs_setup.hpp"

namespace mamori::core { struct VmConfig; }

namespace mamori::vm {

inline constexpr unsigned kMaxGuests = 16;  // = core::kConfigMaxVms
inline constexpr unsigned kExitReasonSlots = 80;   // SDM App. C: basic reasons < 80
inline constexpr unsigned kConsoleLineMax = 512;  // a longer line is cut there (kernel lines, hex digests fit)
inline constexpr unsigned kMaxVcpus = 8;          // vCPUs of one guest (one per CPU of its `cpus` list)

enum class GuestState : uint8_t {
  Empty,      // slot unused
  Created,    // loaded, never launched
  Runnable,
  Stopped,    // by the shell (`vm stop`) or by the guest's exit hypercall
  Halted,     // HLT with interrupts disabled: nothing can wake it
  PoweredOff, // ACPI soft-off (PM1a control)
  Faulted,    // contained: a violation or a failure stopped it
};
const char* state_name(GuestState s);

struct Guest {
  GuestState state = GuestState::Empty;
  unsigned id = 0;
  char name[32] = {};
  char image[64] = {};
  // Its [vm] section in the parsed mamori.cfg (platform::parsed_config(),
  // alive for the VMM's lifetime): files, command lines, modules.
  const core::VmConfig* config = nullptr;
  const char* cmdline = "";      // = config->cmdline: the kernel command line (Multiboot: after the name)
  unsigned cpu = 0;              // the CPU it runs on

  // vCPUs (docs/scheduling.md, "Guests with more than one vCPU"): a guest
  // whose `cpus` list names n CPUs has n vCPUs, vCPU i pinned to the i-th
  // CPU, each a slot of the guest table. vCPU 0's slot is the guest as
  // the shell knows it (name, memory, devices, TPM, console, state); the
  // other vCPUs' slots ("application processors") share its RAM, EPT and
  // virtual platform and keep only what is a vCPU's own (VMCS, registers,
  // MSRs, extended state, its local APIC, accounting).
  unsigned vcpu = 0;             // index in its guest = its APIC ID
  unsigned vm_slot = 0;          // slot of its vCPU 0 (its own for vCPU 0)
  unsigned vcpu_count = 1;       // vCPU 0: how many vCPUs the guest has
  unsigned vcpu_slot[kMaxVcpus] = {};  // vCPU 0: the slots of its vCPUs
  bool wait_sipi = false;        // an AP that has not been started (INIT-SIPI-SIPI through its LAPIC)
  bool start_real_mode = false;  // an AP's start: real mode at start.cs_selector:0 (the SIPI vector)
  // vCPU 0: counts restarts (reboot, `vm start`); an AP that sees a new
  // value parks itself in wait-for-SIPI before it runs again.
  volatile uint32_t reset_epoch = 0;
  uint32_t seen_epoch = 0;       // an AP: the epoch its state belongs to
  volatile bool reset_request = false;  // vCPU 0: an AP asked for a platform reset
  volatile unsigned stop_from = 0;      // vCPU 0: the slot of the AP whose stop stops it
  bool halted_cli = false;       // an AP in HLT with interrupts disabled: sleeps until INIT
  bool console = true;
  uint16_t exit_port = 0;        // config `exit_port` (0: none): QEMU's isa-debug-exit convention

  // Memory: ram_bytes contiguous at host-physical ram_phys, seen by the
  // guest as [0, low_ram) and, beyond 3 GiB, [4 GiB, 4 GiB + high_ram)
  // after the MMIO hole (vmm/guest_boot/layout.hpp, docs/guest-abi.md).
  uint64_t ram_phys = 0;
  uint64_t ram_bytes = 0;
  uint64_t low_ram = 0, high_ram = 0;
  uint64_t entry = 0;
  const char* boot_format = "";  // what identify() found its image to be
  vmx::GuestStart start = {};    // its entry: rip = entry, and the boot protocol's selectors and GDTR

  // VMX structures (physical addresses of their frames).
  uint64_t vmcs = 0, msr_bitmap = 0, io_bitmap_a = 0, io_bitmap_b = 0, xsave_area = 0;
  uint64_t eptp = 0;
  uint64_t ept_table_pages = 0;
  MmioRegion mmio[kMaxMmioRegions] = {};  // emulated devices (unmapped in its EPT)
  unsigned mmio_count = 0;
  bool tpm = false;
  bool tpm_crb = false;          // CRB instead of TIS
  // Its TCG event log of the measured launch (guest_create.cpp measure),
  // advertised by the ACPI TPM2 table; 0 bytes: not measured, none advertised.
  uint64_t tpm_log_gpa = 0;
  uint32_t tpm_log_bytes = 0;
  bool launched = false;
  bool vmcs_ready = false;       // set up on its CPU (vm/scheduler.cpp)
  // The register file the exit stub pushes into (vmm/vm/entry.S), then
  // the two slots the stub addresses relative to it.
  arch::Gprs regs = {};
  uint64_t cr2 = 0;       // not in the VMCS either (SDM 3C §27.3.1.1): saved by the stub
  uint64_t host_rsp = 0;  // the stub's own stack while the guest runs
  uint64_t xcr0 = 1;             // x87 only until the guest's XSETBV
  // Its virtual platform (vmm/vm/virtual_platform.hpp): interrupt
  // controllers, timers, UART, PM block; null only before creation.
  void* platform = nullptr;
  bool irq_waiting = false;      // its platform has an interrupt for it (kept current by the platform)
  uint64_t device_deadline = 0;  // guest TSC of its devices' next deadline (kept current by the platform)
  bool halted = false;           // in HLT with interrupts enabled: sleeps until an interrupt is waiting
  uint32_t proc_controls = 0;    // primary processor-based controls as in its VMCS (window exiting toggles)
  bool virtual_nmis = false;     // pin-based "virtual NMIs" is set (NMI blocking is tracked, SDM 3C §25.3)
  uint64_t resets = 0;           // platform resets (reboots) since creation
  uint64_t acpi_rsdp = 0;        // guest-physical address of its ACPI RSDP (in the 0xE0000 search range)
  VcpuMsrs msrs = {};            // its MSR values (vm/vcpu_msrs.hpp, vcpu/msr_table.hpp)

  // Accounting.
  uint64_t exits = 0;
  uint64_t exit_counts[kExitReasonSlots] = {};
  uint64_t run_tsc = 0;          // TSC ticks spent in the guest (entry to exit)
  uint64_t slices = 0;
  int exit_status = -1;          // from the exit hypercall
  char stop_reason[160] = {};

  // Virtual 16550: one output line being assembled.
  char line[kConsoleLineMax + 1] = {};
  size_t line_len = 0;
  uint8_t ports_seen[65536 / 8] = {};  // I/O policy: log the first access per port

  // Console input while attached (`vm console`): the virtual UART's RBR.
  static constexpr unsigned kInputSize = 64;
  char input[kInputSize] = {};
  volatile unsigned input_head = 0, input_tail = 0;  // head: next to read (guest CPU); tail: next to write (BSP)
};

// vmm/vm/entry.S addresses cr2 and host_rsp from the register file.
static_assert(__builtin_offsetof(Guest, cr2) == __builtin_offsetof(Guest, regs) + sizeof(arch::Gprs));
static_assert(__builtin_offsetof(Guest, host_rsp) == __builtin_offsetof(Guest, cr2) + 8);

// The slot of vCPU 0 of g's guest: what the shell calls the guest.
Guest& vm_of(Guest& g);
inline bool is_ap(const Guest& g) { return g.vcpu != 0; }

// [gpa, gpa + n) lies in one of the guest's two RAM ranges, and the host
// address of guest RAM at gpa (only where ram_contains): guest_boot/layout.hpp.
inline bool ram_contains(const Guest& g, uint64_t gpa, uint64_t n) {
  uint64_t off;
  return vmm::guest_boot::ram_offset(g.ram_bytes, gpa, n, off);
}
inline uint64_t ram_host(const Guest& g, uint64_t gpa) {
  uint64_t off = 0;
  vmm::guest_boot::ram_offset(g.ram_bytes, gpa, 1, off);
  return g.ram_phys + off;
}

// The guest whose console the shell is attached to (-1: none). While
// attached, only that guest's output is shown and typed bytes go to it.
extern volatile int g_attached_guest;

Guest* guest_table();
Guest* find_guest(const char* name);  // vCPU 0 of the guest with that name
unsigned guest_count();               // guests (not vCPUs)

}  // namespace mamori::vm
