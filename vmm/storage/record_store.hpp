// The state record store: one record (opaque bytes) kept crash-safe on a
// partition (docs/storage.md has the byte layout and the argument).
//
// The partition is split into two slots, A (first half) and B (second
// half). Each slot is a header sector followed by the payload's sectors;
// the header carries a magic, the format version, the slot's own index, a
// generation and the payload length, and a SHA-256 (vmm/measure/digest)
// over the header's fields and the payload. A commit writes the slot that
// does not hold the newest valid record, as one sequential write, then
// flushes and reads it back; load picks the valid slot of the highest
// generation. So a write torn at any sector (or byte) spoils only the
// slot being written, and the previous commit stays readable.
//
// Not yet: encryption, sealing, rollback. An old slot put back on the disk
// is loaded if its generation is the highest valid one; bounding the
// generation by a physical-TPM NV counter is the next step of issue 12.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/storage/block_device.hpp"

namespace mamori::storage {

inline constexpr uint32_t kRecordFormatVersion = 1;
inline constexpr char kRecordMagic[8] = {'M', 'A', 'M', 'O', 'R', 'I', 'S', 'T'};

// What a slot's header and payload say (one per slot after scan()).
enum class SlotState : uint8_t {
  Valid,
  Empty,          // header sector all zero: never written
  Io,             // the device failed a read
  NoMagic,        // not a mamori record (foreign or torn header)
  BadVersion,     // a format version this VMM does not read
  WrongSlot,      // the header names the other slot (a copy put in the wrong place)
  BadLength,      // payload length beyond the slot
  BadGeneration,  // generation 0 (commits start at 1)
  BadDigest,      // SHA-256 over header and payload mismatch: torn or altered
};
const char* slot_state_name(SlotState s);

struct SlotInfo {
  SlotState state = SlotState::Empty;
  uint64_t generation = 0;  // as the header says (meaningful when the header parsed)
  uint64_t length = 0;
};

enum class StoreError : uint8_t {
  None,
  TooSmall,        // fewer than 4 sectors: no room for two slots
  Io,              // a read, write or flush failed
  NoRecord,        // no valid slot (empty or all invalid)
  BufferTooSmall,  // the record is longer than the caller's buffer
  TooLarge,        // the payload does not fit a slot (partition full)
  Changed,         // the slot changed between scan and load (digest differs now)
  VerifyFailed,    // the slot just written does not read back valid
  Exhausted,       // the generation counter would wrap
};
const char* store_error_name(StoreError e);

class RecordStore {
 public:
  explicit RecordStore(BlockDevice& partition) : dev_(partition) {}

  // Reads and checks both slots. TooSmall, or None (per-slot problems are
  // in slot(i); NoRecord is load's business).
  StoreError scan();
  const SlotInfo& slot(unsigned i) const { return slots_[i & 1]; }
  // The slot load() reads: valid, highest generation (A on a tie); -1 if none.
  int newest() const;
  // Payload bytes one slot holds.
  uint64_t capacity() const;
  uint64_t slot_sectors() const { return dev_.sector_count() / 2; }

  // The newest valid record into buf[0..cap): its length and generation.
  // Scans first. The payload is hashed again as it is copied, so what the
  // caller gets is exactly what the digest covers.
  StoreError load(uint8_t* buf, size_t cap, size_t& len, uint64_t& generation);
  // Writes p[0..n) as generation newest+1 (1 on an empty partition) into
  // the other slot, flushes, and reads it back. On any error the newest
  // valid record before the call is untouched.
  StoreError commit(const uint8_t* p, size_t n, uint64_t& generation);

 private:
  SlotInfo check_slot(unsigned i, uint8_t* copy_to, size_t cap);
  BlockDevice& dev_;
  SlotInfo slots_[2];
};

}  // namespace mamori::storage
