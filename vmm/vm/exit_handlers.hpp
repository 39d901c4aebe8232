// The exit handlers that live outside vmm/vm/exits.cpp, one file per
// concern, called by its dispatch() (SDM 3C App. C, one per exit reason).
#pragma once
#include "vmm/vm/exits.hpp"
#include "vmm/vm/guest_log.hpp"
#include "vmm/vm/inject.hpp"

namespace mamori::vm {

// The guest ABI version (docs/guest-abi.md): VMCALL 0 and CPUID 0x40000001.
inline constexpr uint32_t kAbiVersion = 1;

ExitAction on_cpuid(Guest& g, const vmx::ExitInfo& e);   // vmm/vm/cpuid.cpp
ExitAction on_rdmsr(Guest& g, const vmx::ExitInfo& e);   // vmm/vm/msrs.cpp
ExitAction on_wrmsr(Guest& g, const vmx::ExitInfo& e);   // vmm/vm/msrs.cpp
ExitAction on_invd_wbinvd(Guest& g, const vmx::ExitInfo& e);    // vmm/vm/instructions.cpp
ExitAction on_rdpmc(Guest& g, const vmx::ExitInfo& e);          // vmm/vm/instructions.cpp
ExitAction on_monitor_mwait(Guest& g, const vmx::ExitInfo& e);  // vmm/vm/instructions.cpp
ExitAction on_pause(Guest& g, const vmx::ExitInfo& e);          // vmm/vm/instructions.cpp

}  // namespace mamori::vm
