// The one byte codec of the TPM wire code: big- and little-endian loads and
// stores on byte buffers, and a bounds-checked reader/writer over
// caller-owned buffers.
//
// TPM 2.0 marshals every integer big-endian (TPM 2.0 Part 1 §18.3 / Part 2
// §4 "Canonical form"), and so do the swtpm/mssim socket protocols and the
// migration formats; the partition frame header is little-endian because
// both of its ends (VMM and service process) are x86-64.
// Pure code, usable freestanding: no allocation; a reader never reads past
// its end and a writer never writes past its capacity — both latch an error
// flag instead.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::protocol {

constexpr uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
constexpr uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
constexpr uint64_t load_be64(const uint8_t* p) { return (uint64_t{load_be32(p)} << 32) | load_be32(p + 4); }
constexpr void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
constexpr void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
constexpr void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}
constexpr uint32_t load_le32(const uint8_t* p) {
  return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[0]};
}
constexpr void store_le32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? size_ - pos_ : 0; }
  size_t position() const { return pos_; }
  bool at_end() const { return ok_ && pos_ == size_; }

  uint8_t u8() { return static_cast<uint8_t>(take_be(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take_be(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take_be(4)); }
  uint64_t u64() { return take_be(8); }

  // A view of the next n bytes (empty and error-latched when short).
  ByteSpan bytes(size_t n) {
    if (!ok_ || n > size_ - pos_) {
      ok_ = false;
      return {};
    }
    ByteSpan s{data_ + pos_, n};
    pos_ += n;
    return s;
  }

  // TPM2B_*: a 16-bit size followed by that many bytes (Part 2 §10.4).
  // max_size is the structure's declared buffer size; a larger size is a
  // marshalling error (TPM_RC_SIZE in Part 2's unmarshalling rules).
  ByteSpan tpm2b(size_t max_size) {
    uint16_t n = u16();
    if (!ok_ || n > max_size) {
      ok_ = false;
      return {};
    }
    return bytes(n);
  }

  void fail() { ok_ = false; }

 private:
  uint64_t take_be(size_t n) {
    if (!ok_ || n > size_ - pos_) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += n;
    return v;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  ByteWriter(uint8_t* data, size_t capacity) : data_(data), cap_(capacity) {}

  bool ok() const { return ok_; }
  size_t size() const { return pos_; }
  uint8_t* data() const { return data_; }

  void u8(uint8_t v) { put_be(v, 1); }
  void u16(uint16_t v) { put_be(v, 2); }
  void u32(uint32_t v) { put_be(v, 4); }
  void u64(uint64_t v) { put_be(v, 8); }

  void bytes(const uint8_t* src, size_t n) {
    if (!ok_ || n > cap_ - pos_) {
      ok_ = false;
      return;
    }
    for (size_t i = 0; i < n; ++i) data_[pos_ + i] = src[i];
    pos_ += n;
  }
  void bytes(ByteSpan s) { bytes(s.data, s.size); }

  void tpm2b(const uint8_t* src, size_t n) {
    if (n > 0xFFFF) {
      ok_ = false;
      return;
    }
    u16(static_cast<uint16_t>(n));
    bytes(src, n);
  }
  void tpm2b(ByteSpan s) { tpm2b(s.data, s.size); }

  // Reserve a 16-bit size field, filled in later by patch_u16().
  size_t reserve_u16() {
    size_t at = pos_;
    u16(0);
    return at;
  }
  void patch_u16(size_t at, uint16_t v) {
    if (!ok_ || at + 2 > pos_) {
      ok_ = false;
      return;
    }
    store_be16(data_ + at, v);
  }
  void patch_u32(size_t at, uint32_t v) {
    if (!ok_ || at + 4 > pos_) {
      ok_ = false;
      return;
    }
    store_be32(data_ + at, v);
  }

 private:
  void put_be(uint64_t v, size_t n) {
    if (!ok_ || n > cap_ - pos_) {
      ok_ = false;
      return;
    }
    for (size_t i = 0; i < n; ++i) data_[pos_ + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    pos_ += n;
  }

  uint8_t* data_;
  size_t cap_;
  size_t pos_ = 0;
  bool ok_ = true;
};

inline bool bytes_equal(ByteSpan a, ByteSpan b) {
  if (a.size != b.size) return false;
  uint8_t diff = 0;  // constant time over the common length
  for (size_t i = 0; i < a.size; ++i) diff |= static_cast<uint8_t>(a.data[i] ^ b.data[i]);
  return diff == 0;
}

}  // namespace mamori::vtpm::protocol
