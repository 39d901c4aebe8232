// The MSR bitmap (SDM Vol. 3C §25.6.9) and the I/O bitmaps (§25.6.4) as typed
// views over the VMM's 4-KiB pages, plus the exit decision the CPU makes
// with them (§26.1.3 "Instructions That Cause VM Exits Conditionally").
// Pure: the caller owns the (zeroed, page-aligned) memory.
#pragma once
#include <stdint.h>

namespace mamori::vmx {

// One 4-KiB page: read-low (MSRs 0-1FFFH) at byte 0, read-high
// (C0000000H-C0001FFFH) at 1024, write-low at 2048, write-high at 3072.
// A set bit makes RDMSR/WRMSR of that MSR exit; MSRs outside both ranges
// always exit.
class MsrBitmap {
 public:
  static constexpr uint32_t kSize = 4096;
  explicit MsrBitmap(uint8_t* page) : page_(page) {}

  void intercept_all();   // every bit 1: all RDMSR/WRMSR exit (mamori's default)
  void pass_all();        // every bit 0
  // Returns false for an MSR outside the two ranges (it always exits).
  bool set_read(uint32_t msr, bool exits);
  bool set_write(uint32_t msr, bool exits);
  bool read_exits(uint32_t msr) const;
  bool write_exits(uint32_t msr) const;

 private:
  // Byte offset of the MSR's bit within the read half, or -1.
  static int32_t bit_index(uint32_t msr);
  uint8_t* page_;
};

// Two 4-KiB pages: A covers ports 0000H-7FFFH, B 8000H-FFFFH.
class IoBitmap {
 public:
  static constexpr uint32_t kSize = 4096;
  IoBitmap(uint8_t* a, uint8_t* b) : a_(a), b_(b) {}

  void intercept_all();
  void pass_all();
  void set(uint16_t port, bool exits);
  void set_range(uint16_t first, uint32_t count, bool exits);
  bool port_exits(uint16_t port) const;
  // An access of `size` bytes (1, 2, 4) at `port` exits if any byte's port
  // exits or if the access wraps past FFFFH (§26.1.3).
  bool access_exits(uint16_t port, unsigned size) const;

 private:
  uint8_t* a_;
  uint8_t* b_;
};

}  // namespace mamori::vmx
