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
// The TPM window both interfaces share (PTP §5.4 / §6.4): five 4 KiB
// locality pages from 0xFED40000.
inline constexpr uint64_t kLocalityStride = 0x1000;
inline constexpr uint64_t kWindowSize = 5 * kLocalityStride;

// An access inside the window, as locality and register offset.
struct WindowAccess {
  uint8_t locality;
  uint16_t reg;
};

// True (and `out` filled) for a 1/2/4/8-byte access that lies wholly in
// the window; the models count anything else as rejected.
constexpr bool split_window_access(uint64_t offset, uint8_t size, WindowAccess& out) {
  if (!is_mmio_size(size) || offset >= kWindowSize || offset + size > kWindowSize) return false;
  out.locality = static_cast<uint8_t>(offset / kLocalityStride);
  out.reg = static_cast<uint16_t>(offset & (kLocalityStride - 1));
  return true;
}

struct MmioStats {
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t rejected = 0;  // bad size/alignment/offset: read all-ones, write dropped
};

}  // namespace mamori::vtpm
