// The lazy switch of the MSRs whose guest value must be in the CPU while
// the guest runs (the table's `switched` entries: IA32_STAR, IA32_LSTAR,
// IA32_FMASK, IA32_KERNEL_GS_BASE, IA32_TSC_AUX, IA32_SPEC_CTRL), one
// CpuMsrSwitch per physical CPU (docs/security.md, "Guest -> host:
// syscall MSRs"):
//
// - load (before every VM entry): the guest's values where the CPU holds
//   others; the guest becomes the CPU's owner, and its values stay in the
//   CPU across exits (the VMM in ring 0 never executes SYSCALL, SWAPGS or
//   RDTSCP). The host's values are taken from the CPU at the first load;
// - release (before the service partition runs, whose SYSCALL needs the
//   host's STAR/LSTAR/FMASK): the host's values back, no owner;
// - the guest's SWAPGS changes IA32_KERNEL_GS_BASE without an exit: the
//   CPU's value is read back into the owner whenever it gives the CPU up
//   and before its RDMSR of it;
// - a guest's WRMSR of a switched MSR goes into the CPU at once if it owns
//   it, else at its next load.
//
// Pure: the CPU's RDMSR/WRMSR come through an MsrCpu (tests give a fake).
#pragma once
#include <stdint.h>
#include "vmm/vcpu/msr_table.hpp"

namespace mamori::vcpu {

class MsrCpu {
 public:
  virtual uint64_t rdmsr(uint32_t msr) = 0;
  virtual void wrmsr(uint32_t msr, uint64_t value) = 0;

 protected:
  ~MsrCpu() = default;
};

// A guest's side: its values, whether they are new to every CPU (a new or
// reloaded guest: reset the whole struct), and whether they are in its CPU.
struct SwitchedGuest {
  MsrState state = {};
  bool fresh = true;
  // Its values are in the CPU it runs on (a guest is pinned to one CPU):
  // the entry path skips load() then. Kept by CpuMsrSwitch.
  bool loaded = false;
};

inline constexpr unsigned kSwitchedMsrs = 6;

class CpuMsrSwitch {
 public:
  void load(MsrCpu& cpu, const MsrFeatures& f, SwitchedGuest& g);
  void release(MsrCpu& cpu, const MsrFeatures& f);
  // Before the guest's RDMSR of `msr` is answered from its state.
  void before_read(MsrCpu& cpu, const SwitchedGuest& g, uint32_t msr);
  // After msr_write accepted a value with `switched` set.
  void after_write(MsrCpu& cpu, const MsrFeatures& f, const SwitchedGuest& g, uint32_t msr);
  const SwitchedGuest* owner() const { return owner_; }

 private:
  void read_back(MsrCpu& cpu);
  void write_if_different(MsrCpu& cpu, const MsrFeatures& f, unsigned i, uint64_t v);
  SwitchedGuest* owner_ = nullptr;
  bool host_saved_ = false;
  uint64_t host_[kSwitchedMsrs] = {};
  uint64_t loaded_[kSwitchedMsrs] = {};
};

}  // namespace mamori::vcpu
