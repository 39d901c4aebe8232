// A named bit or bit-field of a 64-bit paging-structure entry, so the
// entry formats read like the SDM tables instead of masks.
#pragma once

#include <stdint.h>

namespace mamori::ept {

struct Bit {
  unsigned pos;
  constexpr uint64_t mask() const { return uint64_t{1} << pos; }
  constexpr bool in(uint64_t e) const { return (e & mask()) != 0; }
  constexpr uint64_t put(bool v) const { return v ? mask() : 0; }
};

struct Field {
  unsigned lo;
  unsigned width;
  constexpr uint64_t mask() const {
    return (width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1)) << lo;
  }
  constexpr uint64_t get(uint64_t e) const { return (e & mask()) >> lo; }
  constexpr uint64_t put(uint64_t v) const { return (v << lo) & mask(); }
};

// Physical-address bits of an entry: bits (MAXPHYADDR-1):low, where low is
// 12 for a table pointer or 4 KiB leaf and 21/30 for a 2 MiB/1 GiB leaf
// (SDM 3A §4.5.4, 3C §29.3.2). The engine validates
// every address against Options::phys_bits before it reaches an entry, so
// the architectural maximum (52) is used here.
constexpr uint64_t address_mask(unsigned low_bit) {
  return ((uint64_t{1} << 52) - 1) & ~((uint64_t{1} << low_bit) - 1);
}

}  // namespace mamori::ept
