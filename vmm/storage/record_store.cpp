#include "vmm/storage/record_store.hpp"

#include <string.h>

#include "vmm/guest_boot/bytes.hpp"
#include "vmm/measure/digest.hpp"

namespace mamori::storage {
namespace {
using vmm::guest_boot::le32;
using vmm::guest_boot::le64;
using vmm::guest_boot::put32;
using vmm::guest_boot::put64;

// Header layout (docs/storage.md, "Record slot"). The digest covers bytes
// [0, kDigest) of the header and then the payload.
constexpr size_t kMagic = 0, kVersion = 8, kSlot = 12, kGeneration = 16, kLength = 24, kDigest = 32;
constexpr size_t kDigestEnd = kDigest + measure::kSha256Size;

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

}  // namespace

const char* slot_state_name(SlotState s) {
  switch (s) {
    case SlotState::Valid: return "valid";
    case SlotState::Empty: return "empty";
    case SlotState::Io: return "read error";
    case SlotState::NoMagic: return "no record magic";
    case SlotState::BadVersion: return "unknown format version";
    case SlotState::WrongSlot: return "header names the other slot";
    case SlotState::BadLength: return "length beyond the slot";
    case SlotState::BadGeneration: return "generation 0";
    case SlotState::BadDigest: return "digest mismatch (torn or altered)";
  }
  return "?";
}

const char* store_error_name(StoreError e) {
  switch (e) {
    case StoreError::None: return "ok";
    case StoreError::TooSmall: return "partition too small for two slots";
    case StoreError::Io: return "device error";
    case StoreError::NoRecord: return "no valid record";
    case StoreError::BufferTooSmall: return "record larger than the buffer";
    case StoreError::TooLarge: return "record larger than a slot (partition full)";
    case StoreError::Changed: return "record changed while being read";
    case StoreError::VerifyFailed: return "record does not read back valid";
    case StoreError::Exhausted: return "generation counter exhausted";
  }
  return "?";
}

uint64_t RecordStore::capacity() const {
  const uint64_t s = slot_sectors();
  return s < 2 ? 0 : (s - 1) * kSectorSize;
}

int RecordStore::newest() const {
  const bool a = slots_[0].state == SlotState::Valid, b = slots_[1].state == SlotState::Valid;
  if (a && b) return slots_[1].generation > slots_[0].generation ? 1 : 0;
  return a ? 0 : b ? 1 : -1;
}

// Checks slot i; with copy_to, copies the payload there (cap >= length,
// the caller checked) while hashing it.
SlotInfo RecordStore::check_slot(unsigned i, uint8_t* copy_to, size_t cap) {
  SlotInfo info;
  const uint64_t base = i * slot_sectors();
  uint8_t s[kSectorSize];
  if (!dev_.read(base, 1, s)) return {SlotState::Io, 0, 0};
  if (all_zero(s, kSectorSize)) return {SlotState::Empty, 0, 0};
  if (memcmp(s + kMagic, kRecordMagic, sizeof kRecordMagic) != 0) return {SlotState::NoMagic, 0, 0};
  info.state = SlotState::Valid;  // until a check below says otherwise
  info.generation = le64(s + kGeneration);
  info.length = le64(s + kLength);
  if (le32(s + kVersion) != kRecordFormatVersion) info.state = SlotState::BadVersion;
  else if (le32(s + kSlot) != i) info.state = SlotState::WrongSlot;
  else if (info.length > capacity() || (copy_to && info.length > cap)) info.state = SlotState::BadLength;
  else if (info.generation == 0) info.state = SlotState::BadGeneration;
  if (info.state != SlotState::Valid) return info;

  measure::Sha256 h;
  h.update(s, kDigest);
  uint8_t want[measure::kSha256Size];
  memcpy(want, s + kDigest, sizeof want);
  for (uint64_t off = 0; off < info.length; off += kSectorSize) {
    if (!dev_.read(base + 1 + off / kSectorSize, 1, s)) return {SlotState::Io, info.generation, info.length};
    const size_t n = info.length - off < kSectorSize ? static_cast<size_t>(info.length - off) : kSectorSize;
    h.update(s, n);
    if (copy_to) memcpy(copy_to + off, s, n);
  }
  uint8_t got[measure::kSha256Size];
  h.final(got);
  info.state = memcmp(got, want, sizeof got) == 0 ? SlotState::Valid : SlotState::BadDigest;
  return info;
}

StoreError RecordStore::scan() {
  slots_[0] = slots_[1] = SlotInfo{};
  if (slot_sectors() < 2) return StoreError::TooSmall;
  for (unsigned i = 0; i < 2; ++i) slots_[i] = check_slot(i, nullptr, 0);
  return StoreError::None;
}

StoreError RecordStore::load(uint8_t* buf, size_t cap, size_t& len, uint64_t& generation) {
  len = 0;
  generation = 0;
  if (StoreError e = scan(); e != StoreError::None) return e;
  const int n = newest();
  if (n < 0) return StoreError::NoRecord;
  if (slots_[n].length > cap) return StoreError::BufferTooSmall;
  const SlotInfo again = check_slot(static_cast<unsigned>(n), buf, cap);
  if (again.state == SlotState::Io) return StoreError::Io;
  if (again.state != SlotState::Valid || again.generation != slots_[n].generation) return StoreError::Changed;
  len = static_cast<size_t>(again.length);
  generation = again.generation;
  return StoreError::None;
}

StoreError RecordStore::commit(const uint8_t* p, size_t n, uint64_t& generation) {
  generation = 0;
  if (StoreError e = scan(); e != StoreError::None) return e;
  if (n > capacity()) return StoreError::TooLarge;
  const int cur = newest();
  // An unreadable slot may still hold the newest record: never overwrite
  // what could not be read (the other slot is written only when it is
  // not the newest valid one, and neither is written over an I/O error).
  if (slots_[0].state == SlotState::Io || slots_[1].state == SlotState::Io) return StoreError::Io;
  const uint64_t prev = cur < 0 ? 0 : slots_[cur].generation;
  if (prev == UINT64_MAX) return StoreError::Exhausted;
  const unsigned target = cur < 0 ? 0 : static_cast<unsigned>(1 - cur);
  const uint64_t gen = prev + 1;

  uint8_t s[kSectorSize] = {};
  memcpy(s + kMagic, kRecordMagic, sizeof kRecordMagic);
  put32(s + kVersion, kRecordFormatVersion);
  put32(s + kSlot, target);
  put64(s + kGeneration, gen);
  put64(s + kLength, n);
  measure::Sha256 h;
  h.update(s, kDigest);
  h.update(p, n);
  h.final(s + kDigest);
  static_assert(kDigestEnd <= kSectorSize);

  // One sequential write: header, the payload's whole sectors, its tail
  // padded with zeros; then the flush that makes it the commit.
  const uint64_t base = target * slot_sectors();
  const uint32_t whole = static_cast<uint32_t>(n / kSectorSize);
  const size_t tail = n % kSectorSize;
  if (!dev_.write(base, 1, s)) return StoreError::Io;
  if (whole && !dev_.write(base + 1, whole, p)) return StoreError::Io;
  if (tail) {
    memset(s, 0, sizeof s);
    memcpy(s, p + static_cast<size_t>(whole) * kSectorSize, tail);
    if (!dev_.write(base + 1 + whole, 1, s)) return StoreError::Io;
  }
  if (!dev_.flush()) return StoreError::Io;
  slots_[target] = check_slot(target, nullptr, 0);
  if (slots_[target].state != SlotState::Valid || slots_[target].generation != gen) return StoreError::VerifyFailed;
  generation = gen;
  return StoreError::None;
}

}  // namespace mamori::storage
