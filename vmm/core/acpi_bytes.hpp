// Little-endian field reads for ACPI buffer parsers (ACPI 6.4 §5.2: all
// table fields are little-endian and may be unaligned). Callers bounds-check
// before reading; these only assemble bytes.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::core::acpi_bytes {

inline uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t rd64(const uint8_t* p) {
  return static_cast<uint64_t>(rd32(p)) | (static_cast<uint64_t>(rd32(p + 4)) << 32);
}
inline uint8_t sum8(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + p[i]);
  return s;
}

}  // namespace mamori::core::acpi_bytes
