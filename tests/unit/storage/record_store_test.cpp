// The record store's crash safety: a commit cut by a power failure at
// every sector (and inside the sector being written) leaves the last
// committed record readable; flipped bytes anywhere in a slot make that
// slot invalid and the other one load; an old slot put back is not taken
// over a newer valid one; a full, a tiny and a never-written partition
// are refused with their own errors. Digests checked against OpenSSL.
#include <openssl/sha.h>

#include <catch.hpp>
#include <cstring>
#include <vector>

#include "tests/unit/storage/memory_disk.hpp"
#include "vmm/storage/record_store.hpp"

using namespace mamori::storage;
using mamori::storage::test::MemoryDisk;

namespace {
std::vector<uint8_t> record(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return v;
}

uint64_t commit(RecordStore& s, const std::vector<uint8_t>& r) {
  uint64_t gen = 0;
  REQUIRE(s.commit(r.data(), r.size(), gen) == StoreError::None);
  return gen;
}

// Loads and returns the record; REQUIREs success.
std::vector<uint8_t> load(RecordStore& s, uint64_t& gen) {
  std::vector<uint8_t> buf(s.capacity());
  size_t len = 0;
  REQUIRE(s.load(buf.data(), buf.size(), len, gen) == StoreError::None);
  buf.resize(len);
  return buf;
}

constexpr uint64_t kPart = 64;  // sectors: two slots of 32 (31 payload sectors each)
}  // namespace

TEST_CASE("record store: empty partition, first commits, alternation") {
  MemoryDisk d(kPart);
  RecordStore s(d);
  CHECK(s.capacity() == 31 * kSectorSize);
  std::vector<uint8_t> buf(16);
  size_t len = 99;
  uint64_t gen = 99;
  CHECK(s.load(buf.data(), buf.size(), len, gen) == StoreError::NoRecord);
  CHECK(len == 0);
  CHECK(s.slot(0).state == SlotState::Empty);
  CHECK(s.slot(1).state == SlotState::Empty);
  CHECK(s.newest() == -1);

  for (uint64_t g = 1; g <= 5; ++g) {
    const auto r = record(100 * g, static_cast<uint8_t>(g));
    const uint64_t flushes = d.flushes;
    CHECK(commit(s, r) == g);
    CHECK(d.flushes == flushes + 1);  // one flush per commit
    // Generation 1 in A, 2 in B, 3 in A...
    CHECK(s.newest() == static_cast<int>((g - 1) % 2));
    uint64_t got = 0;
    CHECK(load(s, got) == r);
    CHECK(got == g);
    // A fresh store over the same disk (the next boot) sees the same.
    RecordStore again(d);
    CHECK(load(again, got) == r);
    CHECK(got == g);
    CHECK(again.slot(g % 2).state == (g == 1 ? SlotState::Empty : SlotState::Valid));
    if (g > 1) CHECK(again.slot(g % 2).generation == g - 1);
  }
}

TEST_CASE("record store: the header digest is SHA-256 over the header fields and the payload") {
  MemoryDisk d(kPart);
  RecordStore s(d);
  const auto r = record(700, 3);
  commit(s, r);
  std::vector<uint8_t> m(d.bytes.begin(), d.bytes.begin() + 32);
  m.insert(m.end(), r.begin(), r.end());
  uint8_t want[32];
  SHA256(m.data(), m.size(), want);
  CHECK(std::memcmp(d.bytes.data() + 32, want, 32) == 0);
  CHECK(std::memcmp(d.bytes.data(), "MAMORIST", 8) == 0);
  // The payload starts at the slot's second sector, its tail padded with zeros.
  CHECK(std::memcmp(d.bytes.data() + kSectorSize, r.data(), r.size()) == 0);
  for (size_t i = kSectorSize + r.size(); i < 3 * kSectorSize; ++i) REQUIRE(d.bytes[i] == 0);
}

TEST_CASE("record store: a commit cut at every sector, whole or torn, keeps the last committed record") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{511}, size_t{512}, size_t{2000}, size_t{31 * kSectorSize}}) {
    for (uint64_t prior : {uint64_t{0}, uint64_t{1}, uint64_t{2}}) {  // commits before the cut one
      const size_t sectors = 1 + (size + kSectorSize - 1) / kSectorSize;
      for (size_t cut = 0; cut < sectors; ++cut) {
        for (uint32_t torn : {0u, 1u, 100u, 511u}) {
          INFO("size " << size << " prior " << prior << " cut at sector " << cut << " torn " << torn);
          MemoryDisk d(kPart);
          RecordStore s(d);
          std::vector<uint8_t> last;
          for (uint64_t g = 1; g <= prior; ++g) commit(s, last = record(300 + g, static_cast<uint8_t>(g)));
          d.sectors_until_cut = static_cast<int64_t>(cut);
          d.torn_bytes = torn;
          const auto r = record(size, 0x55);
          uint64_t gen = 0;
          CHECK(s.commit(r.data(), r.size(), gen) == StoreError::Io);
          CHECK(gen == 0);
          // Power back: a new store over what reached the disk.
          d.cut = false;
          d.sectors_until_cut = -1;
          RecordStore after(d);
          std::vector<uint8_t> buf(after.capacity());
          size_t len = 0;
          const StoreError e = after.load(buf.data(), buf.size(), len, gen);
          // The cut hit the last sector after every byte the digest covers
          // (the header's first 64, or the payload's tail; the padding is
          // not covered): the new record is complete, and may load.
          const size_t covered = sectors == 1 ? 64 : size - (sectors - 2) * kSectorSize;
          const bool complete = cut == sectors - 1 && torn >= covered;
          if (complete) {
            REQUIRE(e == StoreError::None);
            CHECK(gen == prior + 1);
            buf.resize(len);
            CHECK(buf == r);
            continue;
          }
          if (prior == 0) {
            CHECK(e == StoreError::NoRecord);
          } else {
            REQUIRE(e == StoreError::None);
            CHECK(gen == prior);
            buf.resize(len);
            CHECK(buf == last);
          }
          // And the next commit succeeds over the torn slot.
          CHECK(commit(after, r) == prior + 1);
          CHECK(load(after, gen) == r);
        }
      }
    }
  }
}

TEST_CASE("record store: a flipped byte anywhere in the newest slot falls back to the older one") {
  MemoryDisk base(kPart);
  RecordStore s(base);
  const auto older = record(900, 1), newer = record(1000, 2);
  commit(s, older);  // A, generation 1
  commit(s, newer);  // B, generation 2
  const size_t b = 32 * kSectorSize;
  // Every header byte up to the digest's end, and every payload byte.
  std::vector<size_t> offsets;
  for (size_t i = 0; i < 64; ++i) offsets.push_back(b + i);
  for (size_t i = 0; i < newer.size(); ++i) offsets.push_back(b + kSectorSize + i);
  for (size_t off : offsets) {
    INFO("byte " << off - b << " of slot B");
    MemoryDisk d = base;
    d.bytes[off] ^= 0x01;
    RecordStore t(d);
    uint64_t gen = 0;
    CHECK(load(t, gen) == older);
    CHECK(gen == 1);
    CHECK(t.slot(1).state != SlotState::Valid);
  }
  // Which check catches what.
  auto state_after = [&](size_t off, uint8_t x) {
    MemoryDisk d = base;
    d.bytes[b + off] ^= x;
    RecordStore t(d);
    t.scan();
    return t.slot(1).state;
  };
  CHECK(state_after(0, 1) == SlotState::NoMagic);
  CHECK(state_after(8, 1) == SlotState::BadVersion);
  CHECK(state_after(12, 1) == SlotState::WrongSlot);
  CHECK(state_after(23, 0x80) == SlotState::BadDigest);      // generation's top byte
  CHECK(state_after(26, 0x01) == SlotState::BadLength);      // length 1000 + 65536
  CHECK(state_after(kSectorSize + 5, 1) == SlotState::BadDigest);
  // Padding after the payload is not covered: a flip there changes nothing loaded.
  CHECK(state_after(kSectorSize + newer.size() + 1, 1) == SlotState::Valid);
}

TEST_CASE("record store: an old slot put back does not win over a newer valid one") {
  MemoryDisk d(kPart);
  RecordStore s(d);
  commit(s, record(10, 1));                                                  // A gen 1
  const std::vector<uint8_t> a1(d.bytes.begin(), d.bytes.begin() + 32 * kSectorSize);
  commit(s, record(10, 2));                                                  // B gen 2
  commit(s, record(10, 3));                                                  // A gen 3
  std::copy(a1.begin(), a1.end(), d.bytes.begin());                          // A back to gen 1
  RecordStore t(d);
  uint64_t gen = 0;
  CHECK(load(t, gen) == record(10, 2));
  CHECK(gen == 2);
  // The next commit overwrites the stale A, not B.
  CHECK(commit(t, record(10, 4)) == 3);
  CHECK(t.newest() == 0);
  CHECK(t.slot(1).generation == 2);
  // Slot A's bytes copied into B's place are refused (the header names slot A).
  MemoryDisk e(kPart);
  RecordStore u(e);
  commit(u, record(10, 5));
  std::copy(e.bytes.begin(), e.bytes.begin() + 32 * kSectorSize, e.bytes.begin() + 32 * kSectorSize);
  u.scan();
  CHECK(u.slot(1).state == SlotState::WrongSlot);
  // Both slots valid with the same generation (only by tampering): A wins, deterministically.
  // Rollback to an older generation in both slots is not detected yet: the
  // physical-TPM counter of issue 12 step 3 bounds it (docs/storage.md).
}

TEST_CASE("record store: full, tiny, unreadable and failing devices") {
  MemoryDisk d(kPart);
  RecordStore s(d);
  const auto ok = record(10, 1);
  commit(s, ok);
  const auto big = record(s.capacity() + 1, 2);
  uint64_t gen = 0;
  CHECK(s.commit(big.data(), big.size(), gen) == StoreError::TooLarge);
  const auto exact = record(s.capacity(), 3);
  CHECK(commit(s, exact) == 2);
  std::vector<uint8_t> small(10);
  size_t len = 0;
  CHECK(s.load(small.data(), small.size(), len, gen) == StoreError::BufferTooSmall);

  for (uint64_t n : {0, 1, 2, 3}) {
    MemoryDisk t(n);
    RecordStore r(t);
    CHECK(r.scan() == StoreError::TooSmall);
    CHECK(r.commit(ok.data(), ok.size(), gen) == StoreError::TooSmall);
    CHECK(r.load(small.data(), small.size(), len, gen) == StoreError::TooSmall);
  }
  MemoryDisk four(4);  // the smallest: one payload sector per slot
  RecordStore f(four);
  CHECK(f.capacity() == kSectorSize);
  CHECK(commit(f, record(kSectorSize, 4)) == 1);

  // An unreadable slot may hold the newest record: commit refuses to write at all.
  MemoryDisk u(kPart);
  RecordStore us(u);
  commit(us, ok);
  commit(us, ok);
  u.fail_read_lba = 0;
  const uint64_t written = u.sectors_written;
  CHECK(us.commit(ok.data(), ok.size(), gen) == StoreError::Io);
  CHECK(u.sectors_written == written);
  // Load reads around it: slot B (generation 2) is fine.
  CHECK(load(us, gen) == ok);
  CHECK(us.slot(0).state == SlotState::Io);

  // A failing flush is a failed commit.
  MemoryDisk fl(kPart);
  RecordStore fs(fl);
  fl.fail_flush = true;
  CHECK(fs.commit(ok.data(), ok.size(), gen) == StoreError::Io);

  // Foreign bytes (not a mamori record) in both slots: nothing loads.
  MemoryDisk junk(kPart);
  for (size_t i = 0; i < junk.bytes.size(); ++i) junk.bytes[i] = static_cast<uint8_t>(i * 13 + 1);
  RecordStore js(junk);
  CHECK(js.load(small.data(), small.size(), len, gen) == StoreError::NoRecord);
  CHECK(js.slot(0).state == SlotState::NoMagic);
}
