// The ATA PIO driver against a hostile drive: every register read (status,
// LBA signature bytes, data words including the IDENTIFY block) comes from
// the input, and the clock advances with each poll. Whatever the drive
// says, probe, read, write and flush return (no hang: the run's time limit
// catches one), stay inside their buffers (ASan), and a successful probe
// reports what parse_identify makes of the data it read.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drivers/storage/ata_pio.hpp"

using namespace mamori::drivers::storage;

namespace {
struct HostileDrive final : AtaPorts, AtaClock {
  const uint8_t* p;
  size_t n, pos = 0;
  uint64_t t = 0;
  uint8_t next() { return pos < n ? p[pos++] : 0xFF; }
  uint8_t in8(uint16_t) override { return next(); }
  uint16_t in16(uint16_t) override { return static_cast<uint16_t>(next() | next() << 8); }
  void out8(uint16_t, uint8_t) override {}
  void out16(uint16_t, uint16_t) override {}
  uint64_t now_us() override { return t += 997; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 512) {  // the IDENTIFY parser on its own
    uint16_t w[256];
    memcpy(w, data, sizeof w);
    AtaIdentity id;
    if (parse_identify(w, id) == AtaError::None && (id.sectors == 0 || strlen(id.model) > 40)) __builtin_trap();
  }
  HostileDrive d;
  d.p = data;
  d.n = size;
  AtaPio ata(d, d, kPrimaryIo, kPrimaryCtrl, false, AtaTimeouts{20'000, 10'000, 20'000});
  uint8_t buf[4 * 512];
  if (ata.probe() == AtaError::None) {
    if (ata.sector_count() == 0) __builtin_trap();
    const uint64_t lba = ata.sector_count() > 4 ? ata.sector_count() - 4 : 0;
    const uint32_t count = ata.sector_count() >= 4 ? 4 : static_cast<uint32_t>(ata.sector_count());
    ata.read(lba, count, buf);
    ata.write(lba, count, buf);
    ata.flush();
    if (ata.read(ata.sector_count(), 1, buf) || ata.last_error() != AtaError::OutOfRange) __builtin_trap();
  } else if (ata.read(0, 1, buf) || ata.sector_count() != 0) {
    __builtin_trap();
  }
  if (ata_error_name(ata.last_error())[0] == '?') __builtin_trap();
  return 0;
}
