// Test-side view of a TPM register window: what a guest driver touches.
// LoggedPort records every access so replays can assert the exact order and
// the benchmark can count VM exits (one per register access).
#pragma once

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

namespace mamori::test {

struct MmioRecord {
  bool write;
  uint64_t offset;
  uint8_t size;
  uint64_t value;  // written value, or the value the read returned
};

class MmioPort {
 public:
  virtual ~MmioPort() = default;
  virtual uint64_t read(uint64_t offset, uint8_t size) = 0;
  virtual void write(uint64_t offset, uint8_t size, uint64_t value) = 0;
  // Linux x86 memcpy_toio/memcpy_fromio (arch/x86/lib/iomem.c,
  // string_memcpy_*): a MOVSB and a MOVSW to align the I/O address, then
  // REP MOVSL for len/4 dwords, then MOVSW and MOVSB for the tail. Each
  // element is one access; `string_instructions` counts the instructions,
  // i.e. the exits when the VMM emulates a whole REP MOVS in one exit.
  void copy_to(uint64_t offset, const uint8_t* src, size_t len);
  void copy_from(uint64_t offset, uint8_t* dst, size_t len);
  uint64_t string_instructions = 0;

 private:
  template <class Elem>
  void string_copy(uint64_t offset, size_t len, Elem elem);
};

template <class Device>
class LoggedPort final : public MmioPort {
 public:
  explicit LoggedPort(Device& d) : dev_(d) {}
  uint64_t read(uint64_t offset, uint8_t size) override {
    const uint64_t v = dev_.mmio_read(offset, size);
    log.push_back({false, offset, size, v});
    return v;
  }
  void write(uint64_t offset, uint8_t size, uint64_t value) override {
    dev_.mmio_write(offset, size, value);
    log.push_back({true, offset, size, value});
  }
  std::vector<MmioRecord> log;

 private:
  Device& dev_;
};

template <class Elem>
void MmioPort::string_copy(uint64_t offset, size_t n, Elem elem) {
  size_t pos = 0;
  if (n == 0) return;
  if (offset & 1) {  // movsb to align
    elem(pos, 1);
    pos += 1, n -= 1, ++string_instructions;
  }
  if (n > 1 && ((offset + pos) & 2)) {  // movsw to align
    elem(pos, 2);
    pos += 2, n -= 2, ++string_instructions;
  }
  if (n / 4) {  // rep movsl
    for (size_t i = 0; i < n / 4; ++i) elem(pos + 4 * i, 4);
    ++string_instructions;
  }
  pos += n / 4 * 4;
  if (n & 2) {
    elem(pos, 2);
    pos += 2, ++string_instructions;
  }
  if (n & 1) {
    elem(pos, 1);
    ++string_instructions;
  }
}

// Guest memory mapped without traps (e.g. the CRB data buffer page): reads
// and writes go straight to the bytes; nothing is logged, no exit is taken.
class MemoryPort final : public MmioPort {
 public:
  MemoryPort(uint8_t* bytes, size_t size) : bytes_(bytes), size_(size) {}
  uint64_t read(uint64_t offset, uint8_t size) override {
    uint64_t v = 0;
    for (uint8_t i = 0; i < size && offset + i < size_; ++i) v |= uint64_t{bytes_[offset + i]} << (8 * i);
    return v;
  }
  void write(uint64_t offset, uint8_t size, uint64_t value) override {
    for (uint8_t i = 0; i < size && offset + i < size_; ++i) bytes_[offset + i] = static_cast<uint8_t>(value >> (8 * i));
  }

 private:
  uint8_t* bytes_;
  size_t size_;
};

inline void MmioPort::copy_to(uint64_t offset, const uint8_t* src, size_t len) {
  string_copy(offset, len, [&](size_t at, uint8_t size) {
    uint64_t v = 0;
    for (uint8_t i = 0; i < size; ++i) v |= uint64_t{src[at + i]} << (8 * i);
    write(offset + at, size, v);
  });
}

inline void MmioPort::copy_from(uint64_t offset, uint8_t* dst, size_t len) {
  string_copy(offset, len, [&](size_t at, uint8_t size) {
    const uint64_t v = read(offset + at, size);
    for (uint8_t i = 0; i < size; ++i) dst[at + i] = static_cast<uint8_t>(v >> (8 * i));
  });
}

// What a driver does while it sleeps between polls: in tests, let the
// engine make progress (LibtpmsBackend::run_pending).
using SleepHook = std::function<void()>;

}  // namespace mamori::test
