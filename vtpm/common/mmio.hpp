// Guest MMIO access sizes accepted by the TPM register models.
#pragma once

#include <stdint.h>

namespace mamori::vtpm {

// An emulated load/store is 1, 2, 4 or 8 bytes wide (what the x86 MOV family
// can produce). Anything else is rejected by the models before decoding.
constexpr bool is_mmio_size(uint8_t size) {
  return size == 1 || size == 2 || size == 4 || size == 8;
}

// Mask of the low `size` bytes.
constexpr uint64_t size_mask(uint8_t size) {
  return size >= 8 ? ~uint64_t{0} : ((uint64_t{1} << (size * 8)) - 1);
}

// Value returned by reads the models cannot serve (bus float; PTP: reads of
// registers of a non-active locality and of an empty FIFO return FFh).
constexpr uint64_t all_ones(uint8_t size) { return size_mask(size); }

// Counters the VMM can print on its console; the fuzz targets use them.
struct MmioStats {
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t rejected = 0;  // bad size/alignment/offset: read all-ones, write dropped
};

}  // namespace mamori::vtpm
