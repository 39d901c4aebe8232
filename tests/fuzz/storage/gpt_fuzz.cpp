// The GPT reader over a hostile disk: the input is the disk's first
// sectors (the rest reads as zeros up to a size the input chooses). The
// first byte asks the target to make the CRCs right after the fact, so
// the fuzzer reaches the checks behind HeaderCRC32 and the array CRC.
// A found partition must lie in the usable range the header gave.
#include <stddef.h>
#include <stdint.h>

#include "tests/unit/storage/memory_disk.hpp"
#include "vmm/guest_boot/bytes.hpp"
#include "vmm/storage/crc32.hpp"
#include "vmm/storage/gpt.hpp"

using namespace mamori::storage;
using mamori::vmm::guest_boot::le32;
using mamori::vmm::guest_boot::le64;
using mamori::vmm::guest_boot::put32;

namespace {
void fix(test::MemoryDisk& d, uint64_t lba, bool array) {
  uint8_t* h = d.bytes.data() + lba * kSectorSize;
  const uint64_t entry_lba = le64(h + 72);
  const uint64_t bytes = static_cast<uint64_t>(le32(h + 80)) * le32(h + 84);
  if (array && entry_lba < d.sector_count() && bytes <= (d.sector_count() - entry_lba) * kSectorSize)
    put32(h + 88, crc32(0, d.bytes.data() + entry_lba * kSectorSize, static_cast<size_t>(bytes)));
  uint32_t size = le32(h + 12);
  if (size > kSectorSize) size = kSectorSize;
  put32(h + 16, 0);
  put32(h + 16, crc32(0, h, size));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const uint64_t sectors = 5 + (data[1] | data[2] << 8) % 1024;
  data += 3;
  size -= 3;
  test::MemoryDisk d(sectors);
  const size_t n = size < d.bytes.size() ? size : d.bytes.size();
  for (size_t i = 0; i < n; ++i) d.bytes[i] = data[i];
  if (flags & 1) fix(d, 1, flags & 2);
  if (flags & 4) fix(d, sectors - 1, flags & 2);
  GptDisk g;
  GptPartition p;
  const Guid type = flags & 8 ? kStatePartitionType : Guid{{0}};
  const GptError e = gpt_find(d, type, g, p);
  if (e == GptError::None) {
    if (p.first_lba > p.last_lba || p.first_lba < g.first_usable || p.last_lba > g.last_usable ||
        g.last_usable >= sectors)
      __builtin_trap();
  }
  if (gpt_error_name(e)[0] == '?') __builtin_trap();
  return 0;
}
