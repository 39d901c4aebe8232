// The GPT reader against tables written by sgdisk (gdisk, an independent
// implementation), then each malformed case made from such a table: every
// check of UEFI 2.10 §5.2.3/§5.3.2 that gpt_find makes has a case that
// fails it, and the backup header takes over where the spec says it does.
#include <unistd.h>
#include <zlib.h>

#include <catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "tests/unit/storage/memory_disk.hpp"
#include "vmm/guest_boot/bytes.hpp"
#include "vmm/storage/crc32.hpp"
#include "vmm/storage/gpt.hpp"

using namespace mamori::storage;
namespace ms = mamori::storage;
using mamori::storage::test::MemoryDisk;
using mamori::vmm::guest_boot::le32;
using mamori::vmm::guest_boot::le64;
using mamori::vmm::guest_boot::put32;
using mamori::vmm::guest_boot::put64;

namespace {
constexpr uint64_t kSectors = 16384;  // 8 MiB
const char* kUnique = "11111111-2222-3333-4444-555555555555";

// ESP at 2048..10239, the state partition at 10240..14335, as sgdisk writes them.
MemoryDisk sgdisk_disk() {
  char path[] = "/tmp/mamori-gpt-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, kSectors * kSectorSize) == 0);
  close(fd);
  std::string cmd = std::string(SGDISK) + " -o -U 0c0d0e0f-0102-0304-0506-0708090a0b0c" +
                    " -n 1:2048:10239 -t 1:EF00 -n 2:10240:14335 -t 2:d4ca0aa0-9ab0-45d6-be11-8dcf59c3d4b7" +
                    " -u 2:" + kUnique + " -c 2:mamori-state " + path + " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::remove(path);
  REQUIRE(bytes.size() == kSectors * kSectorSize);
  return MemoryDisk(bytes.data(), bytes.size());
}

uint8_t* sector(MemoryDisk& d, uint64_t lba) { return d.bytes.data() + lba * kSectorSize; }

void fix_header_crc(MemoryDisk& d, uint64_t lba) {
  uint8_t* h = sector(d, lba);
  uint32_t size = le32(h + 12);
  if (size > kSectorSize) size = kSectorSize;
  put32(h + 16, 0);
  put32(h + 16, ms::crc32(0, h, size));
}

// Edits the header at `lba` and recomputes its CRC (the edit is then the only fault).
void edit_header(MemoryDisk& d, uint64_t lba, const std::function<void(uint8_t*)>& f) {
  f(sector(d, lba));
  fix_header_crc(d, lba);
}

// Edits entry `index` of the array the header at `lba` points to, and recomputes both CRCs.
void edit_entry(MemoryDisk& d, uint64_t lba, uint32_t index, const std::function<void(uint8_t*)>& f) {
  uint8_t* h = sector(d, lba);
  uint8_t* array = sector(d, le64(h + 72));
  f(array + index * le32(h + 84));
  put32(h + 88, ms::crc32(0, array, le32(h + 80) * le32(h + 84)));
  fix_header_crc(d, lba);
}

GptError find(MemoryDisk& d, GptDisk& g, GptPartition& p, const Guid& type = kStatePartitionType) {
  return gpt_find(d, type, g, p);
}
}  // namespace

TEST_CASE("crc32: the check value and zlib, whole and in pieces") {
  const uint8_t check[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK(ms::crc32(0, check, 9) == 0xCBF43926u);
  std::vector<uint8_t> buf(1500);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t n : {0, 1, 63, 64, 92, 512, 1500}) {
    CHECK(ms::crc32(0, buf.data(), n) == ::crc32(0, buf.data(), static_cast<uInt>(n)));
    CHECK(ms::crc32(ms::crc32(0, buf.data(), n / 3), buf.data() + n / 3, n - n / 3) ==
          ::crc32(0, buf.data(), static_cast<uInt>(n)));
  }
}

TEST_CASE("gpt: finds the state partition sgdisk wrote") {
  MemoryDisk d = sgdisk_disk();
  GptDisk g;
  GptPartition p;
  REQUIRE(find(d, g, p) == GptError::None);
  CHECK(g.header_lba == 1);
  CHECK(g.primary_error == GptError::None);
  CHECK(g.entry_count == 128);
  CHECK(g.entry_size == 128);
  CHECK(p.index == 1);
  CHECK(p.first_lba == 10240);
  CHECK(p.last_lba == 14335);
  CHECK(p.sectors() == 4096);
  char text[37];
  guid_format(p.unique, text);
  CHECK(std::string(text) == kUnique);
  guid_format(p.type, text);
  CHECK(std::string(text) == "d4ca0aa0-9ab0-45d6-be11-8dcf59c3d4b7");
  guid_format(g.disk_guid, text);
  CHECK(std::string(text) == "0c0d0e0f-0102-0304-0506-0708090a0b0c");

  // The ESP is found by its type too (C12A7328-F81F-11D2-BA4B-00A0C93EC93B).
  const Guid esp = {{0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b}};
  REQUIRE(find(d, g, p, esp) == GptError::None);
  CHECK(p.index == 0);
  CHECK(p.first_lba == 2048);
  const Guid none = {{1}};
  CHECK(find(d, g, p, none) == GptError::NotFound);
  CHECK(g.entry_count == 128);  // the table itself was valid
}

TEST_CASE("gpt: the protective MBR") {
  MemoryDisk d = sgdisk_disk();
  GptDisk g;
  GptPartition p;
  sector(d, 0)[446 + 4] = 0x07;
  CHECK(find(d, g, p) == GptError::NoProtectiveMbr);
  sector(d, 0)[511] = 0;
  CHECK(find(d, g, p) == GptError::NoMbrSignature);
}

TEST_CASE("gpt: a bad primary header falls back to the backup; two bad ones fail with the primary's reason") {
  const uint64_t last = kSectors - 1;
  struct Case {
    const char* what;
    std::function<void(MemoryDisk&, uint64_t)> spoil;
    GptError error;
  };
  const Case cases[] = {
      {"signature", [](MemoryDisk& d, uint64_t l) { sector(d, l)[0] = 'X'; }, GptError::NoSignature},
      {"crc", [](MemoryDisk& d, uint64_t l) { sector(d, l)[40] ^= 1; }, GptError::BadHeaderCrc},
      {"size 91", [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put32(h + 12, 91); }); },
       GptError::BadHeaderSize},
      {"size 513", [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put32(h + 12, 513); }); },
       GptError::BadHeaderSize},
      {"MyLBA", [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put64(h + 24, 7); }); },
       GptError::BadMyLba},
      {"first > last usable",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put64(h + 40, le64(h + 48) + 1); }); },
       GptError::BadUsableRange},
      {"last usable on the backup header",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put64(h + 48, kSectors - 1); }); },
       GptError::BadUsableRange},
      {"first usable on the header",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put64(h + 40, 1); }); },
       GptError::BadUsableRange},
      {"entry size 100", [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put32(h + 84, 100); }); },
       GptError::BadEntrySize},
      {"entry size 1024",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put32(h + 84, 1024); }); },
       GptError::BadEntrySize},
      {"no entries", [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put32(h + 80, 0); }); },
       GptError::BadEntryCount},
      {"too many entries",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put32(h + 80, kMaxEntries + 1); }); },
       GptError::BadEntryCount},
      {"array past the disk",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put64(h + 72, kSectors - 8); }); },
       GptError::BadEntryArray},
      {"array over the usable range",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [](uint8_t* h) { put64(h + 72, 4000); }); },
       GptError::BadEntryArray},
      {"array over its own header",
       [](MemoryDisk& d, uint64_t l) { edit_header(d, l, [l](uint8_t* h) { put64(h + 72, l == 1 ? 1 : l - 31); }); },
       GptError::BadEntryArray},
      {"array CRC",
       [](MemoryDisk& d, uint64_t l) { sector(d, le64(sector(d, l) + 72))[200] ^= 0x80; },
       GptError::BadEntryArrayCrc},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    MemoryDisk d = sgdisk_disk();
    GptDisk g;
    GptPartition p;
    c.spoil(d, 1);
    REQUIRE(find(d, g, p) == GptError::None);
    CHECK(g.header_lba == last);
    CHECK(g.primary_error == c.error);
    CHECK(p.first_lba == 10240);
    // The backup spoiled the same way (the array CRC case: its own array,
    // which sgdisk put before the backup header).
    c.spoil(d, last);
    CHECK(find(d, g, p) == c.error);
  }
}

TEST_CASE("gpt: the partition found must lie in the usable range") {
  for (auto [first, last] : {std::pair<uint64_t, uint64_t>{14335, 10240}, {10, 14335}, {10240, kSectors - 2}}) {
    MemoryDisk d = sgdisk_disk();
    for (uint64_t h : {uint64_t{1}, kSectors - 1})
      edit_entry(d, h, 1, [first = first, last = last](uint8_t* e) {
        put64(e + 32, first);
        put64(e + 40, last);
      });
    GptDisk g;
    GptPartition p;
    CHECK(find(d, g, p) == GptError::BadPartitionRange);
  }
}

TEST_CASE("gpt: small, truncated, unreadable and empty disks") {
  GptDisk g;
  GptPartition p;
  MemoryDisk tiny(4);
  CHECK(find(tiny, g, p) == GptError::DiskTooSmall);
  MemoryDisk blank(kSectors);
  CHECK(find(blank, g, p) == GptError::NoMbrSignature);

  MemoryDisk d = sgdisk_disk();
  d.fail_read_lba = 0;
  CHECK(find(d, g, p) == GptError::Io);
  d.fail_read_lba = 1;
  REQUIRE(find(d, g, p) == GptError::None);  // the backup
  CHECK(g.primary_error == GptError::Io);

  // An image cut short (dd of a big image to a small stick): the primary
  // claims sectors the disk lacks and the backup is gone.
  MemoryDisk cut = sgdisk_disk();
  cut.bytes.resize(8192 * kSectorSize);
  CHECK(find(cut, g, p) == GptError::BadUsableRange);
}
