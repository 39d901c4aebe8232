#include "vmm/vcpu/msr_switch.hpp"

namespace mamori::vcpu {
namespace {
struct Switched {
  uint32_t msr;
  uint64_t MsrState::*field;
};
constexpr Switched kSwitched[kSwitchedMsrs] = {
    {msr::kStar, &MsrState::star},     {msr::kLstar, &MsrState::lstar},     {msr::kSfmask, &MsrState::sfmask},
    {msr::kKernelGsBase, &MsrState::kernel_gs_base}, {msr::kTscAux, &MsrState::tsc_aux},
    {msr::kSpecCtrl, &MsrState::spec_ctrl},
};
constexpr unsigned kKgs = 3;

// Whether the CPU has it (RDMSR/WRMSR of an absent MSR would #GP in the VMM).
bool exists(const MsrFeatures& f, unsigned i) {
  if (kSwitched[i].msr == msr::kTscAux) return f.tsc_aux;
  if (kSwitched[i].msr == msr::kSpecCtrl) return f.ibrs_ibpb || f.stibp || f.ssbd;
  return true;
}

int index_of(uint32_t m) {
  for (unsigned i = 0; i < kSwitchedMsrs; ++i)
    if (kSwitched[i].msr == m) return static_cast<int>(i);
  return -1;
}
}  // namespace

void CpuMsrSwitch::read_back(MsrCpu& cpu) {
  if (!owner_) return;
  owner_->loaded = false;  // whoever calls this gives the CPU away from the owner
  loaded_[kKgs] = cpu.rdmsr(msr::kKernelGsBase);
  owner_->state.kernel_gs_base = loaded_[kKgs];
}

void CpuMsrSwitch::write_if_different(MsrCpu& cpu, const MsrFeatures& f, unsigned i, uint64_t v) {
  if (!exists(f, i) || loaded_[i] == v) return;
  cpu.wrmsr(kSwitched[i].msr, v);
  loaded_[i] = v;
}

void CpuMsrSwitch::load(MsrCpu& cpu, const MsrFeatures& f, SwitchedGuest& g) {
  if (!host_saved_) {
    for (unsigned i = 0; i < kSwitchedMsrs; ++i)
      if (exists(f, i)) host_[i] = loaded_[i] = cpu.rdmsr(kSwitched[i].msr);
    host_saved_ = true;
  }
  if (owner_ == &g && !g.fresh) return;  // still in the CPU
  if (owner_ != &g) read_back(cpu);
  else loaded_[kKgs] = cpu.rdmsr(msr::kKernelGsBase);  // reset: what its SWAPGS left there is not its state
  for (unsigned i = 0; i < kSwitchedMsrs; ++i) write_if_different(cpu, f, i, g.state.*(kSwitched[i].field));
  owner_ = &g;
  g.fresh = false;
  g.loaded = true;
}

void CpuMsrSwitch::release(MsrCpu& cpu, const MsrFeatures& f) {
  if (!owner_) return;  // nothing loaded since the host's values were saved
  read_back(cpu);
  for (unsigned i = 0; i < kSwitchedMsrs; ++i) write_if_different(cpu, f, i, host_[i]);
  owner_ = nullptr;
}

void CpuMsrSwitch::before_read(MsrCpu& cpu, const SwitchedGuest& g, uint32_t m) {
  if (m != msr::kKernelGsBase || owner_ != &g) return;
  loaded_[kKgs] = cpu.rdmsr(msr::kKernelGsBase);  // it keeps the CPU: only the value is read back
  owner_->state.kernel_gs_base = loaded_[kKgs];
}

void CpuMsrSwitch::after_write(MsrCpu& cpu, const MsrFeatures& f, const SwitchedGuest& g, uint32_t m) {
  const int i = index_of(m);
  if (owner_ != &g || i < 0 || !exists(f, static_cast<unsigned>(i))) return;  // loaded at its next entry
  // Unconditionally: the cached KERNEL_GS_BASE may be stale (SWAPGS).
  const uint64_t v = g.state.*(kSwitched[i].field);
  cpu.wrmsr(m, v);
  loaded_[i] = v;
}

}  // namespace mamori::vcpu
