// GUID Partition Table reader (UEFI Specification 2.10 §5): finds the
// partition of a given type GUID on a disk whose contents are untrusted.
// Checks the protective MBR (§5.2.3), the GPT header (§5.3.2: signature,
// size, HeaderCRC32, MyLBA, usable range) and the partition entry array's
// CRC32 (PartitionEntryArrayCRC32); when the primary header at LBA 1 is
// unusable it reads the backup at the last LBA, as §5.3.2 tells firmware
// to. Every malformed case has its own GptError. Pure: it reads through a
// BlockDevice with one sector of stack, never more than the array's size.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/storage/block_device.hpp"

namespace mamori::storage {

// A GUID as GPT stores it: 16 bytes, the first three fields little-endian
// (UEFI 2.10 Appendix A). guid_format() prints the usual text form.
struct Guid {
  uint8_t b[16];
  bool operator==(const Guid& o) const;
};
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (36 chars + NUL) into out[37].
void guid_format(const Guid& g, char out[37]);
bool guid_is_zero(const Guid& g);

// The partition type GUID of mamori's state partition (docs/storage.md):
// d4ca0aa0-9ab0-45d6-be11-8dcf59c3d4b7, generated for mamori (random, v4).
inline constexpr Guid kStatePartitionType = {
    {0xa0, 0x0a, 0xca, 0xd4, 0xb0, 0x9a, 0xd6, 0x45, 0xbe, 0x11, 0x8d, 0xcf, 0x59, 0xc3, 0xd4, 0xb7}};

enum class GptError : uint8_t {
  None,
  Io,                 // the device failed a read
  DiskTooSmall,       // fewer sectors than an MBR, two headers and one entry sector
  NoMbrSignature,     // LBA 0 does not end in 0x55 0xAA
  NoProtectiveMbr,    // no MBR partition record of type 0xEE
  NoSignature,        // neither header says "EFI PART"
  BadHeaderSize,      // HeaderSize below 92 or above the sector
  BadHeaderCrc,       // HeaderCRC32 mismatch
  BadMyLba,           // MyLBA is not the LBA the header was read from
  BadUsableRange,     // FirstUsableLBA > LastUsableLBA, or past the disk, or over the headers
  BadEntrySize,       // SizeOfPartitionEntry not 128, 256 or 512 (128 x 2^n; larger unsupported)
  BadEntryCount,      // NumberOfPartitionEntries 0 or above kMaxEntries
  BadEntryArray,      // the entry array lies outside the disk or inside the usable range
  BadEntryArrayCrc,   // PartitionEntryArrayCRC32 mismatch
  NotFound,           // tables valid, no partition of the type
  BadPartitionRange,  // the partition found has StartingLBA > EndingLBA or lies outside the usable range
};
const char* gpt_error_name(GptError e);

struct GptPartition {
  Guid type, unique;
  uint64_t first_lba = 0, last_lba = 0;  // inclusive, as GPT stores them
  uint32_t index = 0;                    // 0-based entry number
  uint64_t sectors() const { return last_lba - first_lba + 1; }
};

struct GptDisk {
  Guid disk_guid;
  uint64_t header_lba = 0;  // 1, or the backup's LBA when the primary was unusable
  GptError primary_error = GptError::None;  // why the primary was not used (None when it was)
  uint64_t first_usable = 0, last_usable = 0;
  uint32_t entry_count = 0, entry_size = 0;
};

// Beyond any real table (the default is 128, UEFI §5.3.2 requires at
// least 16 KiB of entries): bounds the reading of a hostile header.
inline constexpr uint32_t kMaxEntries = 4096;

// Reads the tables of `disk` into `out` and the first partition whose type
// GUID is `type` into `part`. GptError::None only when both are valid.
GptError gpt_find(BlockDevice& disk, const Guid& type, GptDisk& out, GptPartition& part);

// Checks one header sector read from `lba` of a disk of `disk_sectors`
// (exposed for tests and the fuzz target; gpt_find uses it).
GptError gpt_check_header(const uint8_t sector[kSectorSize], uint64_t lba, uint64_t disk_sectors, GptDisk& out,
                          uint64_t& entry_lba, uint32_t& entry_crc);

}  // namespace mamori::storage
