// The record loader over hostile partition contents. The first byte picks
// the partition size and asks the target to make slot digests right (so
// the fuzzer gets past SHA-256 to the length and generation logic). Then:
// a load never reads past the slot or the buffer (ASan), what it returns
// matches the slot it chose, and a commit over whatever was there loads
// back as exactly the committed bytes at the next generation.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "tests/unit/storage/memory_disk.hpp"
#include "vmm/guest_boot/bytes.hpp"
#include "vmm/measure/digest.hpp"
#include "vmm/storage/record_store.hpp"

using namespace mamori::storage;
using mamori::vmm::guest_boot::le64;

namespace {
void fix_digest(test::MemoryDisk& d, uint64_t slot_sectors, unsigned i) {
  uint8_t* h = d.bytes.data() + i * slot_sectors * kSectorSize;
  const uint64_t len = le64(h + 24);
  if (len > (slot_sectors - 1) * kSectorSize) return;
  mamori::measure::Sha256 s;
  s.update(h, 32);
  s.update(h + kSectorSize, static_cast<size_t>(len));
  s.final(h + 32);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const uint64_t sectors = (flags >> 2) + 1;  // 1..64: the tiny cases too
  ++data;
  --size;
  test::MemoryDisk d(sectors);
  memcpy(d.bytes.data(), data, size < d.bytes.size() ? size : d.bytes.size());
  RecordStore s(d);
  if (s.slot_sectors() >= 2) {
    if (flags & 1) fix_digest(d, s.slot_sectors(), 0);
    if (flags & 2) fix_digest(d, s.slot_sectors(), 1);
  }
  std::vector<uint8_t> buf(s.capacity() / 2 + 1);
  size_t len = 0;
  uint64_t gen = 0;
  const StoreError e = s.load(buf.data(), buf.size(), len, gen);
  if (e == StoreError::None) {
    const int n = s.newest();
    if (n < 0 || s.slot(n).generation != gen || s.slot(n).length != len || len > buf.size()) __builtin_trap();
  }
  if (store_error_name(e)[0] == '?') __builtin_trap();

  const size_t rec = size < s.capacity() ? size : static_cast<size_t>(s.capacity());
  uint64_t committed = 0;
  if (s.commit(data, rec, committed) == StoreError::None) {
    std::vector<uint8_t> back(s.capacity());
    uint64_t g2 = 0;
    if (s.load(back.data(), back.size(), len, g2) != StoreError::None || g2 != committed || len != rec ||
        memcmp(back.data(), data, rec) != 0)
      __builtin_trap();
  }
  return 0;
}
