// ISA devices decode byte ports. A 16- or 32-bit IN/OUT to such a device
// is split by the bus into byte cycles at port, port+1, ... (low byte
// first), which is what these helpers do for a model's read8/write8.
#pragma once

#include <stdint.h>

namespace mamori::devices {

template <class Read8>
uint32_t read_bytes(uint16_t port, uint8_t size, Read8&& read8) {
  if (size != 1 && size != 2 && size != 4) size = 1;
  uint32_t v = 0;
  for (uint8_t i = 0; i < size; ++i)
    v |= uint32_t{read8(static_cast<uint16_t>(port + i))} << (8 * i);
  return v;
}

template <class Write8>
void write_bytes(uint16_t port, uint8_t size, uint32_t value, Write8&& write8) {
  if (size != 1 && size != 2 && size != 4) size = 1;
  for (uint8_t i = 0; i < size; ++i)
    write8(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

}  // namespace mamori::devices
