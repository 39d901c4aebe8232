#include "exits.hpp"
#include "vmm/vm/exit_handlers.hpp"
#include <stdarg.h>
#include "drivers/lapic/lapic.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/arch/xcr0.hpp"
#include "vmm/lib/rate_limit.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/cpu/vmx_root.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/panic_internal.hpp"
#include "vmm/vm/event_delivery.hpp"
#include "vmm/vm/guest_create.hpp"
#include "vmm/vm/scheduler.hpp"
#include "vmm/vm/virtual_platform.hpp"
#include "vmm/vm/vmx_insn.hpp"
#include "vmm/vm/vtpm_attach.hpp"
#include "vmx/cr_shadow.hpp"
#include "vmx/event_injection.hpp"
#include "vmm/emulate/mmio_emulator.hpp"

namespace mamori::vm {
namespace {
using vmx::ExitInfo;
using vmx::ExitReason;
using vmx::InterruptionInfo;
using vmx::VmcsField;

// The guest ABI (docs/guest-abi.md).
constexpr uint32_t kAbiError = 0xFFFFFFFF;
constexpr uint32_t kConsoleWriteMax = 4096;
constexpr unsigned kConsoleLinesPerCall = 32;  // docs/guest-abi.md: a console write may be short
enum Hypercall : uint32_t { kHcVersion = 0, kHcConsoleWrite = 1, kHcGuestId = 2, kHcExit = 3 };

constexpr uint64_t kRflagsIf = 1ull << 9;

[[gnu::noinline]] ExitAction on_vmcall(Guest& g, const ExitInfo& e) {
  uint32_t fn = lo32(g.regs.rax);
  uint64_t result = kAbiError;
  switch (fn) {
    case kHcVersion: result = kAbiVersion; break;
    case kHcGuestId: result = vm_of(g).id; break;
    case kHcConsoleWrite: {
      uint64_t addr = lo32(g.regs.rbx), len = lo32(g.regs.rcx);
      if (len <= kConsoleWriteMax && ram_contains(g, addr, len)) {
        // At most kConsoleLinesPerCall lines a call (each costs a line at
        // serial speed inside this one exit): the rest is left to the
        // guest's next call, and the slice can end in between.
        const auto* p = mem::phys_to_virt<const char>(ram_host(g, addr));
        uint64_t i = 0;
        for (unsigned lines = 0; i < len && lines < kConsoleLinesPerCall; ++i) {
          guest_console_put(g, p[i]);
          if (p[i] == '\n' || (vm_of(g).line_len == 0 && p[i] != '\r')) ++lines;  // a line went out
        }
        result = i;
      }
      break;
    }
    case kHcExit:
      g.exit_status = static_cast<int>(lo32(g.regs.rbx));
      return stop_guest(g, GuestState::Stopped, "exited with status %d", g.exit_status);
    default: break;
  }
  g.regs.rax = result;
  next_rip(e);
  return ExitAction::Resume;
}

bool first_access(Guest& g, uint16_t port) {
  uint8_t& b = g.ports_seen[port / 8];
  uint8_t bit = static_cast<uint8_t>(1u << (port % 8));
  bool first = !(b & bit);
  b |= bit;
  return first;
}

// A platform reset asked by the guest (0xCF9, the 8042, ACPI reset
// register, vm/virtual_platform.cpp): the guest starts again from its
// image, its devices and its TPM as after a power cycle (a platform reset
// resets the TPM too, TCG PC Client PTP §3.2), its CMOS NVRAM kept.
}  // namespace

ExitAction platform_reset(Guest& g, const char* what) {
  if (is_ap(g)) {  // vCPU 0 carries it out at its next scheduling point; this AP waits for SIPI meanwhile
    LOG_INFO("vm %s: vcpu%u asks for a reset (%s)", g.name, g.vcpu, what);
    vm_of(g).reset_request = true;
    return ExitAction::Yield;
  }
  ++g.resets;
  LOG_INFO("vm %s: reset (%s): restarting", g.name, what);
  if (g.line_len) guest_console_put(g, '\n');
  if (!reload_guest(g))
    return stop_guest(g, GuestState::Faulted, "reset (%s): its image could not be loaded again", what);
  return ExitAction::Yield;  // its VMCS is set up afresh on its next slice
}

namespace {

[[gnu::noinline]] ExitAction on_io(Guest& g, const ExitInfo& e) {
  vmx::IoQualification q = e.io();
  uint16_t port = q.port();
  unsigned size = q.size_bytes();
  if (q.string())
    return stop_guest(g, GuestState::Faulted, "string I/O (INS/OUTS) on port 0x%x is not emulated", port);
  uint32_t value = q.in() ? 0xFFFFFFFFu : static_cast<uint32_t>(g.regs.rax);
  if (port == g.exit_port && g.exit_port && !q.in()) {
    // QEMU's isa-debug-exit: the status is (value << 1) | 1, so that a
    // test kernel's "success" is never 0, which a crash could produce too.
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
    vm_of(g).exit_status = static_cast<int>(((value & mask) << 1) | 1);
    return stop_guest(g, GuestState::Stopped, "exited with status %d (exit port 0x%x)", vm_of(g).exit_status, port);
  }
  PortResult r = platform_io(g, port, size, q.in(), value);
  if (!r.claimed && first_access(g, port)) {
    GUEST_LOG(g, "vm %s: %s port 0x%x (%u bytes): no device there, %s (I/O policy)", g.name,
              q.in() ? "IN from" : "OUT to", port, size, q.in() ? "reads all ones" : "write ignored");
  }
  if (q.in()) {
    if (!r.claimed) value = 0xFFFFFFFFu;
    uint64_t mask = size == 4 ? 0xFFFFFFFFull : size == 2 ? 0xFFFFull : 0xFFull;
    // A 32-bit destination zero-extends to 64 bits (SDM 1 §3.4.1.1).
    g.regs.rax = size == 4 ? value : (g.regs.rax & ~mask) | (value & mask);
  }
  next_rip(e);
  switch (r.action) {
    case PlatformAction::None: break;
    case PlatformAction::Reset: return platform_reset(g, r.what);
    case PlatformAction::PowerOff: return stop_guest(g, GuestState::PoweredOff, "powered off (%s)", r.what);
  }
  return ExitAction::Resume;
}

// The LAPIC's MSRs go to the virtual LAPIC (vm/virtual_platform.hpp);
// false if `msr` is not one of them.
bool lapic_msr(Guest& g, const ExitInfo& e, bool write, ExitAction& a) {
  uint32_t msr = lo32(g.regs.rcx);
  uint64_t v = (g.regs.rdx << 32) | lo32(g.regs.rax);
  devices::lapic::MsrStatus s = write ? platform_write_msr(g, msr, v) : platform_read_msr(g, msr, v);
  if (s == devices::lapic::MsrStatus::NotMine) return false;
  a = ExitAction::Resume;
  if (s == devices::lapic::MsrStatus::Gp) {
    GUEST_LOG(g, "vm %s: %s 0x%x refused by its local APIC: #GP injected", g.name, write ? "WRMSR" : "RDMSR", msr);
    inject_hw_exception(kVectorGp, true);
    return true;
  }
  if (!write) {
    g.regs.rax = lo32(v);
    g.regs.rdx = v >> 32;
  }
  next_rip(e);
  return true;
}

[[gnu::noinline]] ExitAction on_cr_access(Guest& g, const ExitInfo& e) {
  const vmx::VmxCapabilities& caps = *cpu_vmx::capabilities();
  vmx::CrAccessQualification q = e.cr_access();
  uint64_t rsp = vmread(VmcsField::guest_rsp);
  uint64_t cr0 = vmread(VmcsField::cr0_read_shadow);
  uint64_t value = 0;
  unsigned cr = q.cr();
  if (cr == 8) {
    // CR8 exits (vmx/control_compute.cpp): without them MOV to CR8 writes
    // the physical local APIC's TPR (SDM 3C §26.3 / §29.3), masking the
    // host's interrupts on this CPU. The guest's CR8 is its virtual
    // LAPIC's TPR[7:4] (vm/virtual_platform.hpp); bits 63:4 set is #GP
    // (SDM 2 MOV to/from CR8).
    uint64_t& reg = q.gpr() == static_cast<unsigned>(arch::Gpr::Rsp) ? rsp : g.regs.gpr[q.gpr()];
    if (q.access() == vmx::CrAccessQualification::Access::mov_to_cr) {
      uint64_t v = reg;
      if (v & ~0xFull) {
        inject_hw_exception(kVectorGp, true);
        return ExitAction::Resume;
      }
      platform_write_cr8(g, static_cast<uint8_t>(v));
    } else if (q.access() == vmx::CrAccessQualification::Access::mov_from_cr) {
      reg = platform_read_cr8(g);
      vmwrite(VmcsField::guest_rsp, rsp);
    }
    next_rip(e);
    return ExitAction::Resume;
  }
  switch (q.access()) {
    case vmx::CrAccessQualification::Access::mov_to_cr:
      value = q.gpr() == static_cast<unsigned>(arch::Gpr::Rsp) ? rsp : g.regs.gpr[q.gpr()];
      break;
    case vmx::CrAccessQualification::Access::clts: cr = 0; value = cr0 & ~(1ull << 3); break;  // CR0.TS
    case vmx::CrAccessQualification::Access::lmsw: cr = 0; value = (cr0 & ~0xEull) | (q.lmsw_source_data() & 0xF) | (cr0 & 1); break;
    case vmx::CrAccessQualification::Access::mov_from_cr:
      return stop_guest(g, GuestState::Faulted, "unexpected MOV from CR%u exit", cr);
  }
  vmx::CrUpdate u;
  if (cr == 0) u = vmx::cr0_write(caps, true, value);
  else if (cr == 4) u = vmx::cr4_write(caps, value);
  else return stop_guest(g, GuestState::Faulted, "unexpected MOV to CR%u exit", cr);
  if (cr == 0 && !u.inject_gp) {  // IA-32e mode on/off follows CR0.PG (vmx/cr_shadow.hpp; issue 14: Linux/PVH entry)
    vmx::LongModeUpdate lm = vmx::long_mode_on_cr0_write(value, vmread(VmcsField::guest_cr4),
        vmread(VmcsField::guest_ia32_efer), (vmread(VmcsField::guest_cs_access_rights) >> 13) & 1);
    u.inject_gp = lm.inject_gp;
    const uint64_t ec = vmread(VmcsField::entry_controls), bit = vmx::bit_of(vmx::EntryCtl::ia32e_mode_guest);
    if (!lm.inject_gp) {
      vmwrite(VmcsField::guest_ia32_efer, lm.efer);
      vmwrite(VmcsField::entry_controls, lm.ia32e_mode_guest ? ec | bit : ec & ~bit);
    }
  }
  if (u.inject_gp) {
    inject_hw_exception(kVectorGp, true);
    return ExitAction::Resume;
  }
  vmwrite(cr == 0 ? VmcsField::guest_cr0 : VmcsField::guest_cr4, u.guest_value);
  vmwrite(cr == 0 ? VmcsField::cr0_read_shadow : VmcsField::cr4_read_shadow, u.read_shadow);
  next_rip(e);
  return ExitAction::Resume;
}

[[gnu::noinline]] ExitAction on_xsetbv(Guest& g, const ExitInfo& e) {
  // SDM 2 XSETBV: #GP(0) for ECX != 0 (only XCR0 is writable) or a value
  // that breaks SDM 1 §13.3; mamori also refuses components it does not
  // switch or has no room for (arch::fpu::mask(), what CPUID.(0DH,0)
  // reports to the guest). CR4.OSXSAVE = 0 and CPL > 0 fault before the
  // exit (SDM 3C §26.1.1). Nothing is executed on the host here: the value
  // is loaded before the guest's next entry (arch::fpu::set_xcr0).
  uint64_t value = (g.regs.rdx << 32) | lo32(g.regs.rax);
  if (lo32(g.regs.rcx) != 0 || !arch::xcr0_allowed(value, arch::fpu::mask())) {
    GUEST_LOG(g, "vm %s: XSETBV XCR%u = 0x%lx refused (allowed components 0x%lx): #GP injected", g.name,
              lo32(g.regs.rcx), value, arch::fpu::mask());
    inject_hw_exception(kVectorGp, true);
    return ExitAction::Resume;
  }
  g.xcr0 = value;
  next_rip(e);
  return ExitAction::Resume;
}

// ---- MMIO: the VMCS values in, emulate::emulate_mmio, the result out ----

// The guest's RAM for the emulator: its two ranges around the MMIO hole (guest.hpp).
class GuestRamView final : public emulate::GuestRam {
 public:
  explicit GuestRamView(const Guest& g) : g_(g) {}
  bool contains(uint64_t gpa, size_t n) const override { return ram_contains(g_, gpa, n); }
  bool read(uint64_t gpa, uint8_t* dst, size_t n) override {
    if (!contains(gpa, n)) return false;
    __builtin_memcpy(dst, mem::phys_to_virt<const uint8_t>(ram_host(g_, gpa)), n);
    return true;
  }
  bool write(uint64_t gpa, const uint8_t* src, size_t n) override {
    if (!contains(gpa, n)) return false;
    __builtin_memcpy(mem::phys_to_virt<uint8_t>(ram_host(g_, gpa)), src, n);
    return true;
  }

 private:
  const Guest& g_;
};

// CR0 as the guest reads it (SDM 3C §25.6.6), as guest_visible_cr4.
uint64_t guest_visible_cr0() {
  uint64_t mask = vmread<VmcsField::cr0_guest_host_mask>();
  return (vmread<VmcsField::guest_cr0>() & ~mask) | (vmread<VmcsField::cr0_read_shadow>() & mask);
}

emulate::VcpuState read_vcpu_state() {
  emulate::VcpuState s;
  s.paging = {guest_visible_cr0(), vmread<VmcsField::guest_cr3>(), guest_visible_cr4(),
              vmread<VmcsField::guest_ia32_efer>()};
  s.cs_access_rights = vmread<VmcsField::guest_cs_access_rights>();
  // The CPL is SS.DPL (SDM 3C §25.4.1): access-rights bits 6:5.
  s.cpl = static_cast<uint8_t>((vmread<VmcsField::guest_ss_access_rights>() >> 5) & 3);
  using emulate::Segment;
  s.segment_base[static_cast<unsigned>(Segment::Es)] = vmread<VmcsField::guest_es_base>();
  s.segment_base[static_cast<unsigned>(Segment::Cs)] = vmread<VmcsField::guest_cs_base>();
  s.segment_base[static_cast<unsigned>(Segment::Ss)] = vmread<VmcsField::guest_ss_base>();
  s.segment_base[static_cast<unsigned>(Segment::Ds)] = vmread<VmcsField::guest_ds_base>();
  s.segment_base[static_cast<unsigned>(Segment::Fs)] = vmread<VmcsField::guest_fs_base>();
  s.segment_base[static_cast<unsigned>(Segment::Gs)] = vmread<VmcsField::guest_gs_base>();
  s.rip = vmread<VmcsField::guest_rip>();
  s.rflags = vmread<VmcsField::guest_rflags>();
  return s;
}

// The instruction at the guest's RIP, decoded and carried out against the
// region's device (docs/tpm-device.md for the TPM window).
ExitAction emulate_mmio(Guest& g, const ExitInfo& e, MmioRegion& r) {
  const emulate::VcpuState s = read_vcpu_state();
  vmx::EptViolationQualification q = e.ept_violation();
  emulate::MmioFault f;
  f.gpa = e.guest_physical_address;
  f.read = q.read();
  f.write = q.write();
  f.fetch = q.fetch();
  f.during_event_delivery = e.idt_vectoring.valid();
  // The RSP slot of the register file is the VMCS's (vmm/arch/regs.hpp).
  g.regs.rsp = vmread<VmcsField::guest_rsp>();
  GuestRamView ram(g);
  emulate::MmioWindow w{r.gpa, r.size, r.device, 0};
  emulate::Emulation res = emulate::emulate_mmio(s, f, g.regs, ram, w);
  r.accesses += w.accesses;
  vmwrite<VmcsField::guest_rsp>(g.regs.rsp);
  switch (res.outcome) {
    case emulate::Outcome::Done: next_rip(res.rip); break;
    case emulate::Outcome::Partial:  // REP with elements left: re-executed, as after an interrupt (SDM 2 REP)
    case emulate::Outcome::Retry: break;
    case emulate::Outcome::Inject:
      if (res.undecodable)
        LOG_INFO("vm %s: instruction at 0x%lx touching %s cannot be emulated: #UD injected", g.name, res.linear, r.name);
      if (res.event.page_fault) g.cr2 = res.event.cr2;  // loaded by the entry stub
      inject_hw_exception(res.event.vector, res.event.has_error_code, res.event.error_code);
      break;
    case emulate::Outcome::Stop:
      if (res.stop == emulate::StopReason::EventDelivery)
        return stop_guest(g, GuestState::Faulted, "delivering vector %u touched %s at 0x%lx: %s", e.idt_vectoring.vector(),
                          r.name, f.gpa, emulate::describe(res.stop));
      return stop_guest(g, GuestState::Faulted, "%s on %s (rip 0x%lx, address 0x%lx)", emulate::describe(res.stop), r.name,
                        s.rip, res.linear);
  }
  return ExitAction::Resume;
}

[[gnu::noinline]] ExitAction on_ept_violation(Guest& g, const ExitInfo& e) {
  vmx::EptViolationQualification q = e.ept_violation();
  uint64_t gpa = e.guest_physical_address;
  if (MmioRegion* r = find_mmio_region(g, gpa)) return emulate_mmio(g, e, *r);
  const char* what = q.fetch() ? "instruction fetch" : q.write() ? "write" : "read";
  const char* where = gpa >= kTpmWindowGpa && gpa < kTpmWindowGpa + kTpmWindowSize ? "the TPM window (this guest has tpm = off)"
                      : ram_contains(g, gpa, 1)                  ? "its RAM (EPT rights)"
                                                                 : "outside its RAM";
  return stop_guest(g, GuestState::Faulted, "EPT violation: %s at guest-physical 0x%lx, %s (rip 0x%lx)", what, gpa,
                    where, vmread<VmcsField::guest_rip>());
}

[[gnu::noinline]] ExitAction on_vmx_instruction(Guest& g, const ExitInfo& e) {
  GUEST_LOG(g, "vm %s: %s executed in the guest (no nested VT-x): #UD injected", g.name,
            vmx::exit_reason_name(e.basic()));
  inject_hw_exception(kVectorUd, false);
  return ExitAction::Resume;
}

// A VM exit during event delivery (IDT-vectoring information valid: an NMI
// or external interrupt exit, an EPT violation on the IDT, GDT or stack,
// SDM 3C §28.2.4 "Information for VM Exits During Event Delivery") leaves
// the event undelivered: the guest's state is as before delivery began. So
// it is injected again on the next entry (§27.6 "Event Injection"), with
// its error code and, for software interrupts and exceptions (INT n,
// INT3, INTO, INT1), the instruction length the exit recorded (§28.2.4),
// unless the handler injects an event itself (vmx::reinjection_of). Every
// VM exit clears the valid bit of the entry field (§28.2), so a set bit is
// the handler's.
[[gnu::noinline]] void reinject_vectoring_event(const ExitInfo& e) {
  constexpr uint32_t kValid = 1u << 31;
  if (vmread<VmcsField::entry_interruption_info>() & kValid) return;
  const vmx::Reinjection r = vmx::reinjection_of(e.idt_vectoring, e.idt_vectoring_error_code, e.instruction_length);
  vmwrite<VmcsField::entry_interruption_info>(r.info.raw);
  if (r.has_error_code) vmwrite<VmcsField::entry_exception_error_code>(r.error_code);
  if (r.has_instruction_length) vmwrite<VmcsField::entry_instruction_length>(r.instruction_length);
}

// HLT sleeps until an interrupt is waiting (vm/scheduler.cpp skips the
// guest until then); with RFLAGS.IF clear only an NMI could wake it, and
// nothing sends it one, so it is stopped as "halted".
[[gnu::noinline]] ExitAction on_hlt(Guest& g, const ExitInfo& e) {
  if (!(vmread<VmcsField::guest_rflags>() & kRflagsIf)) {
    // An AP parked this way (Linux's stop_this_cpu at reboot and power-off,
    // a CPU taken offline) is woken by an INIT, which the BSP sends before
    // starting it again (SDM 3A §9.4.4): the guest goes on.
    if (is_ap(g)) {
      next_rip(e);
      g.halted_cli = true;
      return ExitAction::Yield;
    }
    return stop_guest(g, GuestState::Halted, "HLT with interrupts disabled: nothing can wake it");
  }
  next_rip(e);
  if (platform_interrupt_waiting(g)) return ExitAction::Resume;
  g.halted = true;
  return ExitAction::Yield;
}

ExitAction dispatch(Guest& g, const ExitInfo& e);
}  // namespace

ExitAction stop_guest(Guest& g, GuestState s, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  struct Ctx { char* b; size_t len; } ctx{g.stop_reason, 0};
  lib::vformat(lib::Sink{[](void* c, char ch) {
                           auto* x = static_cast<Ctx*>(c);
                           if (x->len + 1 < sizeof(Guest::stop_reason)) x->b[x->len++] = ch;
                         },
                         &ctx},
               fmt, ap);
  g.stop_reason[ctx.len] = 0;
  va_end(ap);
  if (!is_ap(g) && g.line_len) guest_console_put(g, '\n');
  if (uint64_t n = g_log_bucket[g.id % kMaxGuests].take_suppressed())
    LOG_WARN("vm %s: %lu log lines were suppressed (rate limit)", g.name, n);
  g.state = s;
  if (is_ap(g)) LOG_WARN("vm %s: vcpu%u stopped: %s", g.name, g.vcpu, g.stop_reason);
  else if (s == GuestState::Stopped || s == GuestState::PoweredOff) LOG_INFO("vm %s: stopped: %s", g.name, g.stop_reason);
  else LOG_WARN("vm %s: contained and stopped: %s", g.name, g.stop_reason);
  vcpu_stopped(g);  // the rest of the guest's vCPUs follow
  return ExitAction::Stop;
}

void guest_console_put(Guest& vcpu, char c) {
  Guest& g = vm_of(vcpu);  // one console line per guest, whichever vCPU writes
  bool end = c == '\n';
  if (!end && c != '\r') g.line[g.line_len++] = (c >= 0x20 && c < 0x7F) || c == '\t' ? c : '?';
  if (end || g.line_len == kConsoleLineMax) {
    g.line[g.line_len] = 0;
    if (g.console && (g_attached_guest < 0 || g_attached_guest == static_cast<int>(g.id)))
      console::printf("[%s] %s\n", g.name, g.line);
    g.line_len = 0;
  }
}

ExitAction handle_exit(Guest& g, const ExitInfo& e) {
  ++g.exits;
  if (static_cast<unsigned>(e.basic()) < kExitReasonSlots) ++g.exit_counts[static_cast<unsigned>(e.basic())];
  ExitAction a = dispatch(g, e);
  if (a != ExitAction::Stop && e.idt_vectoring.valid()) reinject_vectoring_event(e);
  return a;
}

namespace {
// One function per exit reason (SDM 3C App. C).
ExitAction dispatch(Guest& g, const ExitInfo& e) {
  unsigned reason = static_cast<unsigned>(e.basic());
  switch (e.basic()) {
    case ExitReason::cpuid: return on_cpuid(g, e);
    case ExitReason::vmcall: return on_vmcall(g, e);
    case ExitReason::io_instruction: return on_io(g, e);
    case ExitReason::rdmsr: {
      ExitAction a;
      return lapic_msr(g, e, false, a) ? a : on_rdmsr(g, e);
    }
    case ExitReason::wrmsr: {
      ExitAction a;
      return lapic_msr(g, e, true, a) ? a : on_wrmsr(g, e);
    }
    case ExitReason::cr_access: return on_cr_access(g, e);
    case ExitReason::xsetbv: return on_xsetbv(g, e);
    case ExitReason::ept_violation: return on_ept_violation(g, e);
    // The timer ends the guest-time part of a slice or marks a device
    // deadline (vm/scheduler.cpp decides which); the windows were asked
    // for by vm/event_delivery.cpp, which injects on the next entry.
    case ExitReason::preemption_timer: return ExitAction::Resume;
    case ExitReason::interrupt_window: window_opened(g, false); return ExitAction::Resume;
    case ExitReason::nmi_window: window_opened(g, true); return ExitAction::Resume;
    case ExitReason::external_interrupt:
      drivers::lapic::eoi();  // acknowledged on exit; the VMM has no interrupt sources of its own yet
      return ExitAction::Resume;
    case ExitReason::exception_or_nmi:
      if (e.interruption.type() == InterruptionInfo::Type::nmi) {
        if (panic_detail::stop_requested()) panic_detail::park_this_cpu();
        return ExitAction::Resume;
      }
      return stop_guest(g, GuestState::Faulted, "unexpected exception %u in the guest", e.interruption.vector());
    case ExitReason::hlt: return on_hlt(g, e);
    case ExitReason::triple_fault:
      return stop_guest(g, GuestState::Faulted, "triple fault (rip 0x%lx)", vmread<VmcsField::guest_rip>());
    case ExitReason::init_signal: return stop_guest(g, GuestState::Faulted, "INIT signal");
    case ExitReason::ept_misconfiguration:
      return stop_guest(g, GuestState::Faulted, "EPT misconfiguration at 0x%lx (a VMM bug)", e.guest_physical_address);
    case ExitReason::vmclear:
    case ExitReason::vmlaunch:
    case ExitReason::vmptrld:
    case ExitReason::vmptrst:
    case ExitReason::vmread:
    case ExitReason::vmresume:
    case ExitReason::vmwrite:
    case ExitReason::vmxoff:
    case ExitReason::vmxon:
    case ExitReason::invept:
    case ExitReason::invvpid:
    case ExitReason::vmfunc:
      return on_vmx_instruction(g, e);
    case ExitReason::invd:
    case ExitReason::wbinvd: return on_invd_wbinvd(g, e);
    case ExitReason::rdpmc: return on_rdpmc(g, e);
    case ExitReason::monitor:
    case ExitReason::mwait: return on_monitor_mwait(g, e);
    case ExitReason::pause: return on_pause(g, e);
    default:
      return stop_guest(g, GuestState::Faulted, "unhandled exit reason %u (%s)", reason, vmx::exit_reason_name(reason));
  }
}

}  // namespace

}  // namespace mamori::vm
