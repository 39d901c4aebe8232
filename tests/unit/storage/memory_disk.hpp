// A disk in memory for the storage tests and fuzz targets, with the
// faults a real one has: a power cut after a number of written sectors
// (the sector being written when it hits may be torn part-way), failing
// reads of chosen sectors, a failing flush.
#pragma once
#include <stdint.h>
#include <string.h>

#include <vector>

#include "vmm/storage/block_device.hpp"

namespace mamori::storage::test {

class MemoryDisk final : public BlockDevice {
 public:
  explicit MemoryDisk(uint64_t sectors) : bytes(sectors * kSectorSize) {}
  MemoryDisk(const uint8_t* p, size_t n) : bytes(p, p + n - n % kSectorSize) {}

  std::vector<uint8_t> bytes;
  // Power cut: after this many more sectors are written, the next sector
  // gets only its first torn_bytes bytes and nothing after it is written.
  int64_t sectors_until_cut = -1;  // -1: no cut
  uint32_t torn_bytes = 0;
  bool cut = false;
  uint64_t fail_read_lba = UINT64_MAX;
  bool fail_flush = false;
  uint64_t sectors_written = 0, flushes = 0;

  uint64_t sector_count() const override { return bytes.size() / kSectorSize; }
  bool read(uint64_t lba, uint32_t count, uint8_t* out) override {
    if (!in_range(lba, count)) return false;
    if (fail_read_lba >= lba && fail_read_lba - lba < count) return false;
    memcpy(out, bytes.data() + lba * kSectorSize, static_cast<size_t>(count) * kSectorSize);
    return true;
  }
  bool write(uint64_t lba, uint32_t count, const uint8_t* in) override {
    if (!in_range(lba, count)) return false;
    for (uint32_t i = 0; i < count; ++i) {
      if (cut) return false;
      uint8_t* dst = bytes.data() + (lba + i) * kSectorSize;
      if (sectors_until_cut == 0) {
        memcpy(dst, in + static_cast<size_t>(i) * kSectorSize, torn_bytes);
        cut = true;
        return false;
      }
      if (sectors_until_cut > 0) --sectors_until_cut;
      memcpy(dst, in + static_cast<size_t>(i) * kSectorSize, kSectorSize);
      ++sectors_written;
    }
    return true;
  }
  bool flush() override {
    ++flushes;
    return !cut && !fail_flush;
  }

 private:
  bool in_range(uint64_t lba, uint32_t count) const {
    return lba <= sector_count() && count <= sector_count() - lba;
  }
};

}  // namespace mamori::storage::test
