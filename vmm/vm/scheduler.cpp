#include "scheduler.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/descriptors.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/lib/spinlock.hpp"
#include "vmm/log.hpp"
#include "vmm/vm/guest_create.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/percpu.hpp"
#include "vmm/shell/shell.hpp"
#include "vmm/partition/process.hpp"
#include "vmm/vm/event_delivery.hpp"
#include "vmm/vm/exits.hpp"
#include "devices/legacy_clock.hpp"
#include "vmm/vm/virtual_platform.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/vm/vcpu_msrs.hpp"
#include "vmm/vm/vmx_insn.hpp"
#include "vmx/control_compute.hpp"
#include "vmx/entry_check.hpp"
#include "vmx/exit_info.hpp"
#include "vmx/field_support.hpp"
#include "vmx/format.hpp"
#include "vmx/vmcs_setup.hpp"

extern "C" void vmx_exit_entry();

namespace mamori::vm {
namespace {
using vmx::VmcsField;

constexpr uint64_t kSliceUs = 10000;          // 10 ms per slice
constexpr uint32_t kPatMsr = 0x277;
// g_stop_request values: the shell's `vm stop`, its guest stopping (an
// AP follows vCPU 0), or one of its vCPUs stopping (vCPU 0 follows the AP
// named by Guest::stop_from).
enum StopRequest : uint8_t { kNoStop = 0, kStopPending = 1, kStopWithGuest = 2, kStopFromVcpu = 3 };

struct CpuSched {
  unsigned next = 0;                 // round-robin cursor over the guest table
  Guest* fpu_owner = nullptr;        // whose FPU/SSE/AVX state is in the registers
  bool in_root = false;
  uint64_t host_pat = 0;             // IA32_PAT as the VMM set it (VMCS host state)
  uint64_t host_tpr = 0;             // CR8 (the local APIC's TPR[7:4], SDM 3A §10.8.6.1)
};
lib::Spinlock g_setup_lock;  // the VMCS images below are shared scratch space
vmx::ComputedControls g_ctl;  // the same for every CPU (one capability record)
bool g_ctl_done;
CpuSched g_sched[kMaxCpus];
volatile uint8_t g_stop_request[kMaxGuests];

// ---- extended state: each guest's FPU/SSE/AVX registers are its own ----
// (vmm/arch/fpu.hpp): the full managed mask is saved and restored whatever
// the guest's XCR0, and a guest's first slice starts from the init state.
void load_fpu(Guest& g, CpuSched& s, bool fresh) {
  if (s.fpu_owner && s.fpu_owner != &g) arch::fpu::save(s.fpu_owner->xsave_area);
  if (fresh) arch::fpu::load_init();
  else arch::fpu::restore(g.xsave_area);
  s.fpu_owner = &g;
}

// The VM-entry checker over an image (SDM 3C ch. 27); the report is shared
// scratch space, used under g_setup_lock.
const vmx::EntryCheckReport& check_entry(const vmx::VmcsImage& img, const vmx::VmxCapabilities& caps) {
  static vmx::EntryCheckReport rep;
  rep = vmx::EntryCheckReport{};
  vmx::EntryCheckContext ctx;
  ctx.caps = &caps;
  ctx.maxphyaddr = cpu::cpuid(0x80000008).eax & 0xFF;
  vmx::check_vm_entry(img, ctx, rep);
  return rep;
}

// ---- VMCS set-up on the guest's own CPU ----
bool init_vmcs(Guest& g, unsigned cpu) {
  const vmx::VmxCapabilities& caps = *cpu_vmx::capabilities();
  *mem::phys_to_virt<uint32_t>(g.vmcs) = caps.revision_id;  // SDM 3C §25.2
  if (!vmclear(g.vmcs) || !vmptrld(g.vmcs)) {
    stop_guest(g, GuestState::Faulted, "VMCLEAR/VMPTRLD of its VMCS failed");
    return false;
  }
  if (!g_ctl_done) {
    g_ctl = vmx::compute_controls(caps, vmx::mamori_control_request());
    g_ctl_done = true;
  }
  const vmx::ComputedControls& ctl = g_ctl;
  static vmx::VmcsImage img;  // one CPU at a time sets up (guarded by the caller's lock)
  img = vmx::VmcsImage{};
  vmx::ControlSetup cs;
  cs.io_bitmap_a = g.io_bitmap_a;
  cs.io_bitmap_b = g.io_bitmap_b;
  cs.msr_bitmap = g.msr_bitmap;
  cs.eptp = g.eptp;
  cs.vpid = static_cast<uint16_t>(g.id + 1);
  vmx::setup_controls(img, caps, ctl, cs);
  vmx::HostState h;
  h.cr0 = cpu::read_cr0();
  h.cr3 = cpu::read_cr3();
  h.cr4 = cpu::read_cr4();
  h.cs = arch::kKernelCs;
  h.ss = h.ds = h.es = arch::kKernelDs;
  h.fs = h.gs = 0;
  h.tr = arch::kTss;
  h.gs_base = cpu::rdmsr(cpu::msr::kGsBase);
  h.tr_base = arch::tss_base(cpu);
  h.gdtr_base = arch::gdt_base(cpu);
  h.idtr_base = arch::idt_base();
  h.rip = reinterpret_cast<uint64_t>(&vmx_exit_entry);
  h.rsp = exit_stack_top(g.regs);  // the exit stub pushes into g.regs (vmm/vm/entry.S)
  h.efer = cpu::rdmsr(cpu::msr::kEfer);
  h.pat = cpu::rdmsr(kPatMsr);
  vmx::setup_host(img, h);
  vmx::GuestStart start = g.start;  // its boot protocol's entry (vm/guest_create.cpp), or an AP's SIPI
  if (g.start_real_mode) vmx::setup_guest_real_mode(img, caps, start);
  else vmx::setup_guest_flat_protected(img, caps, start);
  // The entry checker runs before the first launch: on real hardware a
  // VM-entry failure is otherwise just an error number.
  const vmx::EntryCheckReport& rep = check_entry(img, caps);
  if (!rep.ok()) {
    vmx::EntryFailure f;
    vmx::print_entry_failure(f, rep, [&](const char* l) { LOG_ERROR("vm %s: %s", g.name, l); });
    stop_guest(g, GuestState::Faulted, "its VMCS breaks %d VM-entry rule(s) (listed above)", rep.count);
    return false;
  }
  if (vmx::write_image(img, caps, [](VmcsField f, uint64_t v) { return vmwrite(f, v); }) < 0) {
    stop_guest(g, GuestState::Faulted, "VMWRITE of its VMCS failed");
    return false;
  }
  // Event delivery toggles the window-exiting controls (vm/event_delivery.cpp).
  g.proc_controls = static_cast<uint32_t>(vmread(VmcsField::proc_based_controls));
  g.virtual_nmis = vmread(VmcsField::pin_based_controls) & vmx::bit_of(vmx::PinCtl::virtual_nmis);
  return true;
}

void report_entry_failure(Guest& g, EnterResult r, const vmx::ExitInfo* e) {
  const vmx::VmxCapabilities& caps = *cpu_vmx::capabilities();
  static vmx::VmcsImage img;
  img = vmx::VmcsImage{};
  vmx::read_image(img, caps, [](VmcsField f, uint64_t* v) { return vmread(f, v); });
  const vmx::EntryCheckReport& rep = check_entry(img, caps);
  vmx::EntryFailure f;
  if (r == EnterResult::FailValid) {
    f.vm_fail_valid = true;
    f.vm_instruction_error = static_cast<uint32_t>(vmread(VmcsField::vm_instruction_error));
  } else if (e) {
    f.exit_reason = e->reason;
    f.exit_qualification = e->qualification;
  }
  vmx::print_entry_failure(f, rep, [&](const char* l) { LOG_ERROR("vm %s: %s", g.name, l); });
  stop_guest(g, GuestState::Faulted, "VM entry failed (%s)",
             r == EnterResult::FailInvalid ? "VMfailInvalid: no current VMCS" : "diagnosis above");
}

// The exit fields every handler needs, plus the few that only some
// reasons use: reading all eleven on every exit would cost the fast path
// (CPUID, VMCALL, I/O) a quarter of its instructions.
vmx::ExitInfo read_exit_fast() {
  vmx::ExitInfo e;
  e.reason = {vmread<VmcsField::exit_reason>()};
  e.qualification = vmread<VmcsField::exit_qualification>();
  e.instruction_length = vmread<VmcsField::exit_instruction_length>();
  switch (e.basic()) {
    case vmx::ExitReason::cpuid:
    case vmx::ExitReason::vmcall:
    case vmx::ExitReason::io_instruction:
    case vmx::ExitReason::rdmsr:
    case vmx::ExitReason::wrmsr:
    case vmx::ExitReason::cr_access:
    case vmx::ExitReason::xsetbv:
    case vmx::ExitReason::preemption_timer:
    case vmx::ExitReason::hlt:
    case vmx::ExitReason::interrupt_window:
    case vmx::ExitReason::nmi_window:
      return e;  // instruction exits and the timer: never during event delivery
    default:
      if (e.reason.entry_failure()) return vmx::read_exit_info([](VmcsField f) { return vmread(f); });
      e.guest_physical_address = vmread<VmcsField::guest_physical_address>();
      e.interruption = {vmread<VmcsField::exit_interruption_info>()};
      e.idt_vectoring = {vmread<VmcsField::idt_vectoring_info>()};
      // The event being delivered, re-injected by handle_exit (SDM 3C §27.2.4).
      if (e.idt_vectoring.valid() && e.idt_vectoring.deliver_error_code())
        e.idt_vectoring_error_code = vmread<VmcsField::idt_vectoring_error_code>();
      return e;
  }
}

// What a stop request asks of `g` (vCPU 0 or an AP).
void take_stop_request(Guest& g, uint8_t r) {
  switch (r) {
    case kStopPending: stop_guest(g, GuestState::Stopped, "stopped from the shell"); break;
    case kStopWithGuest: g.state = GuestState::Stopped; break;  // an AP: vCPU 0 reported it
    case kStopFromVcpu: {
      const Guest& ap = guest_table()[g.stop_from % kMaxGuests];
      stop_guest(g, ap.state, "vcpu%u: %s", ap.vcpu, ap.stop_reason);
      break;
    }
    default: break;
  }
}

// An AP back in wait-for-SIPI: its state as after INIT (SDM 3A §9.1.1),
// its VMCS set up afresh when a SIPI starts it.
void park_ap(Guest& a) {
  a.wait_sipi = true;
  a.start_real_mode = false;
  a.vmcs_ready = false;
  a.launched = false;
  a.halted = a.halted_cli = false;
  a.regs = arch::Gprs{};
  a.cr2 = 0;
  a.xcr0 = 1;
  a.slices = 0;  // its next slice starts from the extended-state init state
  a.msrs = VcpuMsrs{};
}

// Whether an AP may run now: it follows its guest's restarts and stop
// requests, and runs once its LAPIC got INIT-SIPI-SIPI (SDM 3A §9.4.4).
// On the AP's own CPU.
bool ap_may_run(Guest& a) {
  if (a.seen_epoch != vm_of(a).reset_epoch) {
    park_ap(a);
    a.seen_epoch = vm_of(a).reset_epoch;
  }
  if (uint8_t r = g_stop_request[a.id]) {
    g_stop_request[a.id] = kNoStop;
    take_stop_request(a, r);
    return false;
  }
  const bool was_running = !a.wait_sipi;
  uint8_t vector = 0;
  const bool sipi = platform_take_start(a, vector);
  if (was_running && a.wait_sipi) {  // an INIT
    LOG_INFO("vm %s: vcpu%u got INIT: waiting for SIPI", a.name, a.vcpu);
    park_ap(a);
  }
  if (sipi) {
    park_ap(a);
    a.wait_sipi = false;
    a.start = vmx::GuestStart{};
    a.start.cs_selector = static_cast<uint16_t>(vector << 8);  // CS base vector << 12, IP 0 (§9.4.4)
    a.start.rip = 0;
    a.start_real_mode = true;
  }
  return !a.wait_sipi;
}

// One slice of `g` on this CPU.
void run_slice(Guest& g, CpuSched& s, unsigned cpu) {
  if (!g.vmcs_ready) {
    bool ok;
    {
      lib::LockGuard lock(g_setup_lock);
      ok = init_vmcs(g, cpu);
    }
    if (!ok) return;
    g.vmcs_ready = true;
    if (is_ap(g))
      LOG_INFO("vm %s: vcpu%u starting on cpu%u at %04x:0000 (SIPI)", g.name, g.vcpu, cpu, g.start.cs_selector);
    else
      LOG_INFO("vm %s: starting on cpu%u at 0x%lx", g.name, cpu, g.entry);
  } else if (!vmptrld(g.vmcs)) {
    stop_guest(g, GuestState::Faulted, "VMPTRLD of its VMCS failed");
    return;
  }
  if (uint8_t r = g_stop_request[g.id]) {  // checked per slice: a slice ends within 10 ms
    g_stop_request[g.id] = kNoStop;
    take_stop_request(g, r);
    return;
  }
  if (g.reset_request) {  // an AP asked for a platform reset (vm/exits.cpp)
    g.reset_request = false;
    if (platform_reset(g, "requested by an application processor") == ExitAction::Stop) return;
  }
  if (s.fpu_owner != &g || g.slices == 0) load_fpu(g, s, g.slices == 0);
  ++g.slices;
  uint64_t shift = cpu_vmx::capabilities()->misc.preemption_timer_shift;
  uint64_t ticks = drivers::tsc::hz() / 1000000 * kSliceUs;
  // A slice is 10 ms of TSC from its start, the VMM's work for the guest
  // included (exit handling, its console, its vTPM engine's commands):
  // the preemption timer counts guest time only, so a guest making exits
  // that cost the VMM much (a logged RDMSR at serial speed) would
  // otherwise keep its CPU for as long as it likes (issue 9, finding 4).
  // After every exit the TSC decides. The preemption timer is re-armed before every entry with what is left
  // of the slice or, if sooner, the next deadline of the guest's devices
  // (its LAPIC timer, PIT, RTC, UART): the exit then lets
  // platform_update() fire it and deliver_events() inject what it raised.
  auto timer_for = [&](uint64_t left) {
    uint64_t t = left >> shift;
    return t ? t : 1;
  };
  // Where the CPU saves the timer on exit it goes on counting from there,
  // so it is only written again when it ran out or a sooner deadline came
  // up (a VMWRITE less on most exits; the fire time drifts by the VMM's
  // own time, which the TSC check after every exit makes up for).
  bool timer_saved = g_ctl.exit() & vmx::bit_of(vmx::ExitCtl::save_preemption_timer);
  uint64_t armed_until = 0;  // TSC at which the armed timer fires (ignoring drift)
  bool rearm = true;
  uint64_t slice_start = cpu::rdtsc();  // time in the guest is counted per slice, VMM time included
  for (bool first = true;; first = false) {
    uint64_t now = cpu::rdtsc();
    uint64_t used = now - slice_start;
    if (!first && used >= ticks) {
      g.run_tsc += used;
      return;  // its turn is over; the exit is handled, the guest resumes next slice
    }
    uint64_t left = ticks - used;
    if (platform_update_due(g, now)) platform_update(g, now);
    if (uint64_t next = g.device_deadline; next != devices::kNever)
      left = next > now ? (next - now < left ? next - now : left) : 0;
    if (events_to_deliver(g)) deliver_events(g);
    if (rearm || !timer_saved || now + left < armed_until) {
      vmwrite(VmcsField::guest_preemption_timer, timer_for(left));
      armed_until = now + left;
      rearm = false;
    }
    if (s.fpu_owner != &g) load_fpu(g, s, false);  // the service partition ran here during the last exit
    arch::fpu::set_xcr0(g.xcr0);
    if (!g.msrs.loaded) load_guest_msrs(g);  // its STAR/LSTAR/... (vm/vcpu_msrs.hpp)
    EnterResult r = vmx_enter(&g.regs, g.launched);
    if (r != EnterResult::Exited) {
      g.run_tsc += cpu::rdtsc() - slice_start;
      lib::LockGuard lock(g_setup_lock);
      report_entry_failure(g, r, nullptr);
      return;
    }
    g.launched = true;
    vmx::ExitInfo e = read_exit_fast();
    if (e.reason.entry_failure()) {
      g.run_tsc += cpu::rdtsc() - slice_start;
      lib::LockGuard lock(g_setup_lock);
      report_entry_failure(g, r, &e);
      return;
    }
    rearm = e.basic() == vmx::ExitReason::preemption_timer;
    // An AP whose guest was reset or restarted meanwhile runs no further:
    // what it executed belongs to the guest's previous life.
    if (is_ap(g) && g.seen_epoch != vm_of(g).reset_epoch) {
      g.run_tsc += cpu::rdtsc() - slice_start;
      return;
    }
    ExitAction a = handle_exit(g, e);
    if (a == ExitAction::Resume) continue;
    g.run_tsc += cpu::rdtsc() - slice_start;
    return;
  }
}
}  // namespace

void release_fpu() {
  CpuSched& s = g_sched[this_cpu_index()];
  if (s.fpu_owner) arch::fpu::save(s.fpu_owner->xsave_area);
  s.fpu_owner = nullptr;
}

bool request_start(const char* name, const char** why) {
  Guest* g = find_guest(name);
  if (!g) { *why = "no such guest (see 'vm list')"; return false; }
  if (g->state == GuestState::Runnable) { *why = "it is already running"; return false; }
  for (unsigned i = 1; i < g->vcpu_count; ++i)
    if (guest_table()[g->vcpu_slot[i]].state == GuestState::Runnable) {
      *why = "its other vCPUs are still stopping: try again";
      return false;
    }
  if (g->launched && !reload_guest(*g)) {
    *why = "its image could not be loaded again (see the log)";
    return false;
  }
  for (unsigned i = 1; i < g->vcpu_count; ++i) {
    Guest& a = guest_table()[g->vcpu_slot[i]];
    a.wait_sipi = true;  // parked on its own CPU when it sees the new epoch
    a.state = GuestState::Runnable;
  }
  g->state = GuestState::Runnable;
  return true;
}

bool request_stop(const char* name, const char** why) {
  Guest* g = find_guest(name);
  if (!g) { *why = "no such guest (see 'vm list')"; return false; }
  if (g->state != GuestState::Runnable) { *why = "it is not running"; return false; }
  g_stop_request[g->id] = kStopPending;
  return true;
}

void vcpu_stopped(Guest& g) {
  if (is_ap(g)) {
    Guest& vm = vm_of(g);
    if (vm.state != GuestState::Runnable || g.seen_epoch != vm.reset_epoch) return;
    vm.stop_from = g.id;
    __atomic_store_n(&g_stop_request[vm.id], kStopFromVcpu, __ATOMIC_RELEASE);
    return;
  }
  for (unsigned i = 1; i < g.vcpu_count; ++i) {
    Guest& a = guest_table()[g.vcpu_slot[i]];
    if (a.state == GuestState::Runnable) __atomic_store_n(&g_stop_request[a.id], kStopWithGuest, __ATOMIC_RELEASE);
  }
}

void cpu_loop(bool bsp) {
  unsigned cpu = this_cpu_index();
  CpuSched& s = g_sched[cpu];
  bool have_guests = false;
  for (unsigned i = 0; i < kMaxGuests; ++i) {
    Guest& g = guest_table()[i];
    if (g.state != GuestState::Empty && g.cpu == cpu) have_guests = true;
  }
  partition::init_partition_cpu(cpu);
  s.host_pat = cpu::rdmsr(kPatMsr);
  s.host_tpr = cpu::read_cr8();
  if (have_guests) {
    s.in_root = cpu_vmx::enter_root_for_guests();
    if (s.in_root) arch::fpu::load_init();  // sets CR4.OSXSAVE here; no state from before is left
  }
  for (;;) {
    if (bsp) shell::poll();
    bool ran = false;
    if (s.in_root) {
      for (unsigned n = 0; n < kMaxGuests; ++n) {
        unsigned i = (s.next + n) % kMaxGuests;
        Guest& g = guest_table()[i];
        if (g.cpu != cpu || g.state != GuestState::Runnable) continue;
        if (is_ap(g) && !ap_may_run(g)) continue;
        // A vCPU in HLT sleeps until one of its devices raises an
        // interrupt it can take (or the shell stops it); an AP in HLT with
        // interrupts disabled (Linux's stop_this_cpu) until an INIT.
        if (g.halted_cli) continue;
        if (g.halted && !g_stop_request[g.id] && !g.reset_request) {
          platform_update(g, cpu::rdtsc());
          if (!platform_interrupt_waiting(g)) continue;
        }
        g.halted = false;
        s.next = i + 1;
        run_slice(g, s, cpu);
        // The VM-exit loads the host's PAT (required control, vmx/
        // control_compute.cpp); checked after every slice all the same,
        // since a guest's PAT in VMX root would change the VMM's memory
        // types (the hostile guest's PAT attempt is the test).
        if (uint64_t pat = cpu::rdmsr(kPatMsr); pat != s.host_pat) {
          LOG_ERROR("vm %s: the host's IA32_PAT changed while it ran (0x%lx, was 0x%lx): restored", g.name, pat,
                    s.host_pat);
          cpu::wrmsr(kPatMsr, s.host_pat);
        }
        // The same for the local APIC's TPR (CR8): CR8 exits keep a
        // guest's MOV to CR8 away from it (finding 11 of issue 9).
        if (uint64_t tpr = cpu::read_cr8(); tpr != s.host_tpr) {
          LOG_ERROR("vm %s: the host's TPR (CR8) changed while it ran (%lu, was %lu): restored", g.name, tpr, s.host_tpr);
          cpu::write_cr8(s.host_tpr);
        }
        ran = true;
        break;
      }
    }
    if (!ran) cpu::pause();
  }
}

}  // namespace mamori::vm
