#include "vmm/storage/gpt.hpp"

#include <string.h>

#include "vmm/guest_boot/bytes.hpp"
#include "vmm/storage/crc32.hpp"

namespace mamori::storage {
namespace {
using vmm::guest_boot::le32;
using vmm::guest_boot::le64;

// UEFI 2.10 §5.2.3 Table 5.3 (protective MBR) and §5.3.2 Table 5.5 (GPT header).
constexpr size_t kMbrRecords = 446, kMbrRecordSize = 16, kMbrOsType = 4;
constexpr uint8_t kProtectiveType = 0xEE;
constexpr size_t kHdrSize = 12, kHdrCrc = 16, kHdrMyLba = 24, kHdrFirstUsable = 40, kHdrLastUsable = 48,
                 kHdrDiskGuid = 56, kHdrEntryLba = 72, kHdrEntryCount = 80, kHdrEntrySize = 84, kHdrEntryCrc = 88;
constexpr uint32_t kMinHeaderSize = 92;
// Table 5.6 (GPT partition entry).
constexpr size_t kEntUnique = 16, kEntFirst = 32, kEntLast = 40;

bool overlaps(uint64_t a, uint64_t n, uint64_t b, uint64_t m) { return a < b + m && b < a + n; }

GptError check_mbr(const uint8_t* s) {
  if (s[510] != 0x55 || s[511] != 0xAA) return GptError::NoMbrSignature;
  for (size_t i = 0; i < 4; ++i)
    if (s[kMbrRecords + i * kMbrRecordSize + kMbrOsType] == kProtectiveType) return GptError::None;
  return GptError::NoProtectiveMbr;
}

// Streams the entry array through one sector: its CRC32 over exactly
// count * size bytes, and the first entry of `type`.
GptError read_entries(BlockDevice& disk, const GptDisk& d, uint64_t entry_lba, uint32_t want_crc, const Guid& type,
                      GptPartition& part, bool& found) {
  const uint64_t bytes = static_cast<uint64_t>(d.entry_count) * d.entry_size;
  const uint32_t per_sector = kSectorSize / d.entry_size;
  uint8_t s[kSectorSize];
  uint32_t crc = 0;
  uint32_t index = 0;
  found = false;
  for (uint64_t off = 0; off < bytes; off += kSectorSize) {
    if (!disk.read(entry_lba + off / kSectorSize, 1, s)) return GptError::Io;
    const uint64_t left = bytes - off;
    crc = crc32(crc, s, left < kSectorSize ? static_cast<size_t>(left) : kSectorSize);
    for (uint32_t i = 0; i < per_sector && index < d.entry_count; ++i, ++index) {
      const uint8_t* e = s + i * d.entry_size;
      if (found || memcmp(e, type.b, 16) != 0) continue;
      found = true;
      memcpy(part.type.b, e, 16);
      memcpy(part.unique.b, e + kEntUnique, 16);
      part.first_lba = le64(e + kEntFirst);
      part.last_lba = le64(e + kEntLast);
      part.index = index;
    }
  }
  return crc == want_crc ? GptError::None : GptError::BadEntryArrayCrc;
}

}  // namespace

bool Guid::operator==(const Guid& o) const { return memcmp(b, o.b, 16) == 0; }

bool guid_is_zero(const Guid& g) {
  for (uint8_t x : g.b)
    if (x) return false;
  return true;
}

void guid_format(const Guid& g, char out[37]) {
  // Appendix A: the first three fields little-endian, the last two as bytes.
  static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[g.b[order[i]] >> 4];
    out[o++] = hex[g.b[order[i]] & 15];
  }
  out[o] = 0;
}

const char* gpt_error_name(GptError e) {
  switch (e) {
    case GptError::None: return "ok";
    case GptError::Io: return "read error";
    case GptError::DiskTooSmall: return "disk too small for a GPT";
    case GptError::NoMbrSignature: return "no MBR signature (55 AA) in LBA 0";
    case GptError::NoProtectiveMbr: return "no protective MBR record (type 0xEE)";
    case GptError::NoSignature: return "no GPT header signature \"EFI PART\"";
    case GptError::BadHeaderSize: return "GPT HeaderSize out of range";
    case GptError::BadHeaderCrc: return "GPT HeaderCRC32 mismatch";
    case GptError::BadMyLba: return "GPT MyLBA is not the header's own LBA";
    case GptError::BadUsableRange: return "GPT usable LBA range invalid";
    case GptError::BadEntrySize: return "GPT SizeOfPartitionEntry unsupported (128, 256 or 512)";
    case GptError::BadEntryCount: return "GPT NumberOfPartitionEntries out of range";
    case GptError::BadEntryArray: return "GPT partition entry array outside the disk or over the usable range";
    case GptError::BadEntryArrayCrc: return "GPT PartitionEntryArrayCRC32 mismatch";
    case GptError::NotFound: return "no partition of that type";
    case GptError::BadPartitionRange: return "partition LBA range invalid";
  }
  return "?";
}

GptError gpt_check_header(const uint8_t s[kSectorSize], uint64_t lba, uint64_t disk_sectors, GptDisk& d,
                          uint64_t& entry_lba, uint32_t& entry_crc) {
  if (memcmp(s, "EFI PART", 8) != 0) return GptError::NoSignature;
  const uint32_t hsize = le32(s + kHdrSize);
  if (hsize < kMinHeaderSize || hsize > kSectorSize) return GptError::BadHeaderSize;
  // HeaderCRC32 is computed with its own field zeroed (§5.3.2).
  uint8_t copy[kSectorSize];
  memcpy(copy, s, hsize);
  memset(copy + kHdrCrc, 0, 4);
  if (crc32(0, copy, hsize) != le32(s + kHdrCrc)) return GptError::BadHeaderCrc;
  if (le64(s + kHdrMyLba) != lba) return GptError::BadMyLba;
  d.first_usable = le64(s + kHdrFirstUsable);
  d.last_usable = le64(s + kHdrLastUsable);
  // LBA 0 (MBR), 1 (primary header) and the last LBA (backup header) are never usable.
  if (d.first_usable < 2 || d.first_usable > d.last_usable || d.last_usable >= disk_sectors - 1)
    return GptError::BadUsableRange;
  d.entry_size = le32(s + kHdrEntrySize);
  if (d.entry_size != 128 && d.entry_size != 256 && d.entry_size != 512) return GptError::BadEntrySize;
  d.entry_count = le32(s + kHdrEntryCount);
  if (d.entry_count == 0 || d.entry_count > kMaxEntries) return GptError::BadEntryCount;
  entry_lba = le64(s + kHdrEntryLba);
  const uint64_t array_sectors = (static_cast<uint64_t>(d.entry_count) * d.entry_size + kSectorSize - 1) / kSectorSize;
  if (entry_lba < 2 || entry_lba >= disk_sectors - 1 || array_sectors > disk_sectors - 1 - entry_lba ||
      overlaps(entry_lba, array_sectors, d.first_usable, d.last_usable - d.first_usable + 1) ||
      overlaps(entry_lba, array_sectors, lba, 1))
    return GptError::BadEntryArray;
  entry_crc = le32(s + kHdrEntryCrc);
  memcpy(d.disk_guid.b, s + kHdrDiskGuid, 16);
  d.header_lba = lba;
  return GptError::None;
}

GptError gpt_find(BlockDevice& disk, const Guid& type, GptDisk& d, GptPartition& part) {
  d = GptDisk{};
  part = GptPartition{};
  const uint64_t n = disk.sector_count();
  // MBR, primary header, one entry sector, one usable sector, backup header.
  if (n < 5) return GptError::DiskTooSmall;
  uint8_t s[kSectorSize];
  if (!disk.read(0, 1, s)) return GptError::Io;
  if (GptError e = check_mbr(s); e != GptError::None) return e;

  // Primary first; the backup when the primary or its array is unusable
  // (UEFI 2.10 §5.3.2). A valid table without the partition is final:
  // the backup describes the same partitions.
  GptError first_error = GptError::None;
  const uint64_t candidates[2] = {1, n - 1};
  for (uint64_t lba : candidates) {
    GptDisk cand{};
    uint64_t entry_lba = 0;
    uint32_t entry_crc = 0;
    GptError e = disk.read(lba, 1, s) ? gpt_check_header(s, lba, n, cand, entry_lba, entry_crc) : GptError::Io;
    bool found = false;
    GptPartition p{};
    if (e == GptError::None) e = read_entries(disk, cand, entry_lba, entry_crc, type, p, found);
    if (e != GptError::None) {
      if (lba == 1) first_error = e;
      continue;
    }
    cand.primary_error = first_error;
    d = cand;
    if (!found) return GptError::NotFound;
    part = p;
    if (p.first_lba > p.last_lba || p.first_lba < d.first_usable || p.last_lba > d.last_usable)
      return GptError::BadPartitionRange;
    return GptError::None;
  }
  // Both unusable: the primary's reason is the one to report.
  return first_error;
}

}  // namespace mamori::storage
