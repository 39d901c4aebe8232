// What exit handlers do to the guest's VMCS state: finish the instruction
// that exited (next_rip), inject a hardware exception on the next entry,
// and read CR4 as the guest sees it. Shared by the handlers of
// vmm/vm/exits.cpp, cpuid.cpp and msrs.cpp.
#pragma once
#include <stdint.h>
#include "vmx/exit_info.hpp"

namespace mamori::vm {

// Exception vectors (SDM 3A Table 6-1).
inline constexpr uint8_t kVectorUd = 6, kVectorGp = 13;

inline uint32_t lo32(uint64_t v) { return static_cast<uint32_t>(v); }

// The instruction that exited is done: RIP past it, and the interrupt
// shadow it may have been in ends with it (STI and MOV-SS blocking last one
// instruction, SDM 3C §25.4.2 Table 25-3), as Zircon's next_rip does; an
// event injected on this entry then finds no stale blocking.
void next_rip(uint64_t rip);
void next_rip(const vmx::ExitInfo& e);

// Event injection on the next entry (SDM 3C §27.6).
void inject_hw_exception(uint8_t vector, bool error_code, uint32_t code = 0);

// CR4 as the guest reads it: host-owned bits (guest/host mask) from the
// read shadow, the rest from the real guest CR4 (SDM 3C §25.6.6).
uint64_t guest_visible_cr4();

}  // namespace mamori::vm
