// Emulated MMIO regions of a guest: its EPT leaves them unmapped, so every
// access is an EPT violation; the VMM decodes the faulting instruction
// (vmm/decode) and lets the region's device answer (SDM 3C §28.2.3.2 for
// what the exit reports; the instruction itself must be fetched and
// decoded because an EPT violation carries no operand).
#pragma once
#include <stdint.h>

namespace mamori::vm {

struct Guest;

class MmioDevice {
 public:
  virtual uint64_t mmio_read(uint64_t offset, uint8_t size) = 0;
  virtual void mmio_write(uint64_t offset, uint8_t size, uint64_t value) = 0;

 protected:
  ~MmioDevice() = default;
};

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
