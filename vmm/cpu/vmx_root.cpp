#include "vmx_root.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/percpu.hpp"
#include "vmx/capabilities.hpp"
#include "vmx/capture.hpp"
#include "vmm/console.hpp"
#include "vmx/msr.hpp"
#include "vmx/readiness.hpp"

namespace mamori::cpu_vmx {
namespace {
constexpr uint32_t kCpuidVmxBit = 1u << 5;  // CPUID.1:ECX.VMX (SDM 3C §24.6)
constexpr uint32_t kCpuidHypervisorBit = 1u << 31;
constexpr uint64_t kRevisionMask = 0x7FFFFFFF;
vmx::VmxCapabilities g_caps;
bool g_caps_valid;

vmx::RawVmxMsrs read_raw() {
  vmx::RawVmxMsrs raw;
  raw.cpuid_vmx = (cpu::cpuid(1).ecx & kCpuidVmxBit) != 0;
  if (!raw.cpuid_vmx) return raw;
  raw.feature_control = cpu::rdmsr(vmx::msr::ia32_feature_control);
  // Read each capability MSR only where the SDM says it exists (App. A):
  // reading an absent one would #GP.
  for (uint32_t m = vmx::msr::ia32_vmx_basic; m <= vmx::msr::ia32_vmx_vmfunc; ++m)
    if (vmx::msr_present(raw, m)) raw.set(m, cpu::rdmsr(m));
  return raw;
}

void print_raw(const vmx::RawVmxMsrs& r) {
  LOG_INFO("vmx: raw MSRs basic=%016lx pin=%016lx proc=%016lx exit=%016lx entry=%016lx", r.basic, r.pinbased,
           r.procbased, r.exit, r.entry);
  LOG_INFO("vmx: raw MSRs misc=%016lx cr0f0=%016lx cr0f1=%016lx cr4f0=%016lx cr4f1=%016lx", r.misc, r.cr0_fixed0,
           r.cr0_fixed1, r.cr4_fixed0, r.cr4_fixed1);
  LOG_INFO("vmx: raw MSRs enum=%016lx proc2=%016lx ept_vpid=%016lx vmfunc=%016lx", r.vmcs_enum, r.procbased2,
           r.ept_vpid_cap, r.vmfunc);
  LOG_INFO("vmx: raw MSRs true_pin=%016lx true_proc=%016lx true_exit=%016lx true_entry=%016lx", r.true_pinbased,
           r.true_procbased, r.true_exit, r.true_entry);
}

void verdict(PerCpu& me, bool ok, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void verdict(PerCpu& me, bool ok, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  struct Ctx { char* b; size_t len; } ctx{me.vmx_report, 0};
  lib::vformat(lib::Sink{[](void* c, char ch) {
                           auto* x = static_cast<Ctx*>(c);
                           if (x->len + 1 < sizeof(PerCpu::vmx_report)) x->b[x->len++] = ch;
                         },
                         &ctx},
               fmt, ap);
  me.vmx_report[ctx.len] = 0;
  va_end(ap);
  if (ok) LOG_INFO("vmx: %s", me.vmx_report);
  else LOG_WARN("vmx: %s", me.vmx_report);
}

// VMX instructions report failure through RFLAGS (SDM 3C §30.2):
// CF = VMfailInvalid, ZF = VMfailValid.
bool vmxon(uint64_t region) {
  uint8_t cf, zf;
  asm volatile("vmxon %2; setc %0; setz %1" : "=r"(cf), "=r"(zf) : "m"(region) : "cc", "memory");
  return !cf && !zf;
}
bool vmxoff() {
  uint8_t cf, zf;
  asm volatile("vmxoff; setc %0; setz %1" : "=r"(cf), "=r"(zf)::"cc", "memory");
  return !cf && !zf;
}
}  // namespace

bool bring_up_this_cpu(bool verbose) {
  PerCpu& me = this_cpu();
  vmx::RawVmxMsrs raw = read_raw();
  if (!raw.cpuid_vmx) {
    auto v = cpu::cpuid(0);
    char vendor[13];
    __builtin_memcpy(vendor + 0, &v.ebx, 4);
    __builtin_memcpy(vendor + 4, &v.edx, 4);
    __builtin_memcpy(vendor + 8, &v.ecx, 4);
    vendor[12] = 0;
    bool hv = (cpu::cpuid(1).ecx & kCpuidHypervisorBit) != 0;
    bool amd = vendor[0] == 'A' && vendor[1] == 'u';
    me.state = CpuState::NoVmx;
    verdict(me, false, "no VMX: CPUID.1:ECX.VMX[bit 5] = 0 (%s%s): guests cannot run on this CPU", vendor,
            amd ? ", an AMD CPU: SVM is not supported" : hv ? ", a hypervisor without nested VT-x" : "");
    return false;
  }
  vmx::FeatureControlVerdict fc = vmx::evaluate_feature_control(true, raw.feature_control);
  switch (fc.action) {
    case vmx::FeatureControlVerdict::Action::no_vmx:
    case vmx::FeatureControlVerdict::Action::locked_off:
      me.state = CpuState::NoVmx;
      verdict(me, false, "%s", fc.message);
      return false;
    case vmx::FeatureControlVerdict::Action::lock_and_enable:
      LOG_INFO("vmx: %s", fc.message);
      cpu::wrmsr(vmx::msr::ia32_feature_control, fc.value_to_write);
      raw.feature_control = fc.value_to_write;
      break;
    case vmx::FeatureControlVerdict::Action::ready:
      break;
  }
  if (verbose) print_raw(raw);
  vmx::VmxCapabilities caps = vmx::decode(raw);
  vmx::Readiness ready = vmx::evaluate_readiness(caps);
  if (verbose && ready.ready()) {
    g_caps = caps;
    g_caps_valid = true;
  }
  if (verbose) {
    LOG_INFO("vmx: revision %u, VMCS %u bytes, EPT %s%s%s, unrestricted guest %s, VPID %s, preemption timer %s (TSC/%u)",
             caps.revision_id, caps.vmcs_size, caps.ept.walk_length_4 ? "4-level" : "none",
             caps.ept.pages_2m ? " 2M" : "", caps.ept.pages_1g ? " 1G" : "", caps.unrestricted_guest() ? "yes" : "no",
             caps.vpid() ? "yes" : "no", caps.preemption_timer() ? "yes" : "no", 1u << caps.misc.preemption_timer_shift);
    for (int i = 0; i < ready.count; ++i) {
      const vmx::Finding& f = ready.findings[i];
      if (f.severity == vmx::Severity::required) LOG_ERROR("vmx: missing: %s", f.text);
      else if (f.severity == vmx::Severity::warning) LOG_WARN("vmx: %s", f.text);
      else LOG_INFO("vmx: %s", f.text);
    }
  }
  // CR0/CR4 must satisfy the VMX fixed bits before VMXON (SDM 3C §24.8,
  // App. A.7/A.8): set what must be 1, refuse if something must be 0.
  uint64_t cr0 = (cpu::read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1;
  uint64_t cr4 = (cpu::read_cr4() | caps.cr4_fixed0 | cpu::cr4::kVmxEnable) & caps.cr4_fixed1;
  if (!(cr4 & cpu::cr4::kVmxEnable)) {
    me.state = CpuState::NoVmx;
    verdict(me, false, "IA32_VMX_CR4_FIXED1 forbids CR4.VMXE");
    return false;
  }
  cpu::write_cr0(cr0);
  cpu::write_cr4(cr4);
  uint64_t region = me.vmxon_region ? me.vmxon_region : mem::alloc_frame();
  if (!region) {
    me.state = CpuState::Failed;
    verdict(me, false, "out of memory for the VMXON region");
    return false;
  }
  // The VMXON region starts with the VMCS revision identifier (SDM 3C §24.11.5).
  *mem::phys_to_virt<uint32_t>(region) = static_cast<uint32_t>(raw.basic & kRevisionMask);
  me.vmxon_region = region;
  if (!vmxon(region)) {
    cpu::write_cr4(cpu::read_cr4() & ~cpu::cr4::kVmxEnable);
    me.state = CpuState::Failed;
    verdict(me, false, "VMXON failed (region 0x%lx, revision %u)", region, caps.revision_id);
    return false;
  }
  LOG_INFO("vmx: cpu%u entered VMX root operation (VMXON region 0x%lx)", me.index, region);
  if (!vmxoff()) {
    me.state = CpuState::Failed;
    verdict(me, false, "VMXOFF failed");
    return false;
  }
  cpu::write_cr4(cpu::read_cr4() & ~cpu::cr4::kVmxEnable);
  me.state = CpuState::VmxRoot;
  verdict(me, ready.ready(), "cpu%u VMX ready: VMXON/VMXOFF ok%s", me.index,
          ready.ready() ? "" : ", but a required feature is missing (see above)");
  return true;
}

void print_capture() {
  static vmx::Capture c;  // the shell's CPU only; one at a time
  c = vmx::Capture{};
  for (const auto& q : vmx::kCaptureLeaves) {
    cpu::CpuidResult r = cpu::cpuid(q.leaf, q.subleaf);
    c.cpuid[c.cpuid_count++] = {q.leaf, q.subleaf, r.eax, r.ebx, r.ecx, r.edx};
  }
  c.msrs = read_raw();
  c.present_mask = vmx::present_mask_of(c.msrs);  // exactly what read_raw() read
  vmx::write_capture(c, [](const char* line) { console::printf("%s\n", line); });
}

const vmx::VmxCapabilities* capabilities() { return g_caps_valid ? &g_caps : nullptr; }

bool enter_root_for_guests() {
  PerCpu& me = this_cpu();
  if (!g_caps_valid || me.state != CpuState::VmxRoot || !me.vmxon_region) return false;
  cpu::write_cr0((cpu::read_cr0() | g_caps.cr0_fixed0) & g_caps.cr0_fixed1);
  cpu::write_cr4((cpu::read_cr4() | g_caps.cr4_fixed0 | cpu::cr4::kVmxEnable) & g_caps.cr4_fixed1);
  if (!vmxon(me.vmxon_region)) {
    LOG_ERROR("vmx: cpu%u: VMXON for guests failed", me.index);
    return false;
  }
  return true;
}

}  // namespace mamori::cpu_vmx
