// The fuzz input read as little-endian integers: each read takes its bytes
// from the front, and reads past the end give 0 (so every input is a
// complete, deterministic run). Aggregate: `FuzzInput in{data, size}`.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::fuzz {

struct FuzzInput {
  const uint8_t* p;
  size_t n;
  uint64_t take(unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && n; ++i, --n) v |= uint64_t{*p++} << (8 * i);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }
};

}  // namespace mamori::fuzz
