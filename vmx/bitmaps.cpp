#include "vmx/bitmaps.hpp"

#include <string.h>

namespace mamori::vmx {

namespace {
constexpr uint32_t kReadLow = 0, kReadHigh = 1024, kWriteOffset = 2048;
}

int32_t MsrBitmap::bit_index(uint32_t msr) {
  if (msr <= 0x1FFF) return static_cast<int32_t>(kReadLow * 8 + msr);
  if (msr >= 0xC0000000u && msr <= 0xC0001FFFu)
    return static_cast<int32_t>(kReadHigh * 8 + (msr - 0xC0000000u));
  return -1;
}

void MsrBitmap::intercept_all() { memset(page_, 0xFF, kSize); }
void MsrBitmap::pass_all() { memset(page_, 0, kSize); }

static void put_bit(uint8_t* base, int32_t bit, bool v) {
  uint8_t& byte = base[bit / 8];
  const uint8_t m = static_cast<uint8_t>(1u << (bit % 8));
  byte = v ? static_cast<uint8_t>(byte | m) : static_cast<uint8_t>(byte & ~m);
}
static bool get_bit(const uint8_t* base, int32_t bit) { return (base[bit / 8] >> (bit % 8)) & 1; }

bool MsrBitmap::set_read(uint32_t msr, bool exits) {
  const int32_t b = bit_index(msr);
  if (b < 0) return false;
  put_bit(page_, b, exits);
  return true;
}
bool MsrBitmap::set_write(uint32_t msr, bool exits) {
  const int32_t b = bit_index(msr);
  if (b < 0) return false;
  put_bit(page_ + kWriteOffset, b, exits);
  return true;
}
bool MsrBitmap::read_exits(uint32_t msr) const {
  const int32_t b = bit_index(msr);
  return b < 0 || get_bit(page_, b);
}
bool MsrBitmap::write_exits(uint32_t msr) const {
  const int32_t b = bit_index(msr);
  return b < 0 || get_bit(page_ + kWriteOffset, b);
}

void IoBitmap::intercept_all() {
  memset(a_, 0xFF, kSize);
  memset(b_, 0xFF, kSize);
}
void IoBitmap::pass_all() {
  memset(a_, 0, kSize);
  memset(b_, 0, kSize);
}
void IoBitmap::set(uint16_t port, bool exits) {
  uint8_t* page = port < 0x8000 ? a_ : b_;
  put_bit(page, port & 0x7FFF, exits);
}
void IoBitmap::set_range(uint16_t first, uint32_t count, bool exits) {
  for (uint32_t i = 0; i < count && first + i <= 0xFFFF; ++i)
    set(static_cast<uint16_t>(first + i), exits);
}
bool IoBitmap::port_exits(uint16_t port) const {
  const uint8_t* page = port < 0x8000 ? a_ : b_;
  return get_bit(page, port & 0x7FFF);
}
bool IoBitmap::access_exits(uint16_t port, unsigned size) const {
  if (static_cast<uint32_t>(port) + size - 1 > 0xFFFF) return true;  // wraps
  for (unsigned i = 0; i < size; ++i)
    if (port_exits(static_cast<uint16_t>(port + i))) return true;
  return false;
}

}  // namespace mamori::vmx
