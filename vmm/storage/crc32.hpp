// CRC-32 as GPT uses it (UEFI 2.10 §5.3.2: the header and partition entry
// array checksums): the IEEE 802.3 polynomial 0x04C11DB7, reflected
// (0xEDB88320), initial value and final XOR 0xFFFFFFFF, the same as zlib's
// crc32(). Bitwise and table-free: GPT checks a few KiB once per boot.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::storage {

// Continues a running CRC: crc32(crc32(0, a, n), b, m) == crc32 of a||b.
uint32_t crc32(uint32_t crc, const uint8_t* p, size_t n);

}  // namespace mamori::storage
