// A disk as the storage code sees it: 512-byte sectors addressed by LBA,
// read, written and flushed. The VMM implements it with its ATA PIO
// driver (drivers/storage/ata_pio.hpp); host tests and fuzz targets with a
// disk in memory (tests/unit/storage/memory_disk.hpp). Every call reports
// failure instead of hanging: the driver bounds its waits.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::storage {

inline constexpr uint32_t kSectorSize = 512;

class BlockDevice {
 public:
  virtual uint64_t sector_count() const = 0;
  // `count` whole sectors from/to `lba`; false on a device error or a
  // range beyond sector_count() (nothing is transferred then).
  virtual bool read(uint64_t lba, uint32_t count, uint8_t* out) = 0;
  virtual bool write(uint64_t lba, uint32_t count, const uint8_t* in) = 0;
  // Returns once everything written before is on the medium (ATA FLUSH
  // CACHE EXT): the commit point of the record store.
  virtual bool flush() = 0;

 protected:
  ~BlockDevice() = default;
};

// Sectors [first, first + count) of another device as a device of its own:
// the record store sees its partition only and cannot reach past it.
class SubDevice final : public BlockDevice {
 public:
  SubDevice(BlockDevice& disk, uint64_t first, uint64_t count) : disk_(disk), first_(first), count_(count) {}
  uint64_t sector_count() const override { return count_; }
  bool read(uint64_t lba, uint32_t count, uint8_t* out) override {
    return in_range(lba, count) && disk_.read(first_ + lba, count, out);
  }
  bool write(uint64_t lba, uint32_t count, const uint8_t* in) override {
    return in_range(lba, count) && disk_.write(first_ + lba, count, in);
  }
  bool flush() override { return disk_.flush(); }

 private:
  bool in_range(uint64_t lba, uint32_t count) const { return lba <= count_ && count <= count_ - lba; }
  BlockDevice& disk_;
  uint64_t first_, count_;
};

}  // namespace mamori::storage
