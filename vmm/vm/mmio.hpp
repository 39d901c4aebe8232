// Emulated MMIO regions of a guest: its EPT leaves them unmapped, so every
// access is an EPT violation; the VMM emulates the faulting instruction
// (vmm/emulate/mmio_emulator.hpp) and lets the region's device answer (SDM
// 3C §28.2.3.2 for what the exit reports; the instruction itself must be
// fetched and decoded because an EPT violation carries no operand).
#pragma once
#include <stdint.h>
#include "vmm/emulate/mmio_emulator.hpp"

namespace mamori::vm {

struct Guest;

using MmioDevice = emulate::MmioDevice;

struct MmioRegion {
  uint64_t gpa = 0, size = 0;
  MmioDevice* device = nullptr;
  const char* name = "";
  uint64_t accesses = 0;
};

inline constexpr unsigned kMaxMmioRegions = 4;

// Registers [gpa, gpa+size) of `g` (its EPT must leave it unmapped).
bool add_mmio_region(Guest& g, uint64_t gpa, uint64_t size, MmioDevice& dev, const char* name);
MmioRegion* find_mmio_region(Guest& g, uint64_t gpa);

}  // namespace mamori::vm
