#include "event_log.hpp"

namespace mamori::measure {
namespace {
// §10.4.5.1 Table 20: "Spec ID Event03" with its NUL, 16 bytes.
constexpr char kSpecIdSignature[16] = "Spec ID Event03";
constexpr uint32_t kPlatformClassClient = 0;
constexpr uint8_t kSpecVersionMinor = 0, kSpecVersionMajor = 2, kSpecErrata = 0;
constexpr uint8_t kUintnSize64 = 2;  // UINTN is 64 bits (Table 20: 2 = UINT64)
constexpr size_t kSha1DigestBytes = 20;
}  // namespace

void hash_all(const Banks& banks, const uint8_t* p, size_t n, Digests& out) {
  for (size_t i = 0; i < banks.count; ++i) hash(banks.alg[i], p, n, out.d[i]);
}

EventLogWriter::EventLogWriter(uint8_t* buf, size_t cap, const Banks& banks) : buf_(buf), cap_(cap), banks_(banks) {
  const size_t spec_size = 16 + 4 + 4 + 4 + banks.count * 4 + 1;
  if (!room(4 + 4 + kSha1DigestBytes + 4 + spec_size)) return;
  u32(0);            // PCRIndex
  u32(kEvNoAction);  // EventType
  for (size_t i = 0; i < kSha1DigestBytes; ++i) u8(0);  // Digest: zero for EV_NO_ACTION (§10.4.5.1)
  u32(static_cast<uint32_t>(spec_size));
  put(kSpecIdSignature, sizeof kSpecIdSignature);
  u32(kPlatformClassClient);
  u8(kSpecVersionMinor);
  u8(kSpecVersionMajor);
  u8(kSpecErrata);
  u8(kUintnSize64);
  u32(static_cast<uint32_t>(banks.count));
  for (size_t i = 0; i < banks.count; ++i) {
    u16(static_cast<uint16_t>(banks.alg[i]));
    u16(static_cast<uint16_t>(digest_size(banks.alg[i])));
  }
  u8(0);  // vendorInfoSize
}

bool EventLogWriter::room(size_t n) {
  if (overflowed_ || n > cap_ - used_) {
    overflowed_ = true;
    return false;
  }
  return true;
}

void EventLogWriter::put(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) buf_[used_ + i] = b[i];
  used_ += n;
}

void EventLogWriter::u16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  put(b, 2);
}

void EventLogWriter::u32(uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 24)};
  put(b, 4);
}

bool EventLogWriter::add(uint32_t pcr, uint32_t type, const Digests& digests, const uint8_t* data, size_t len,
                         const uint8_t* more, size_t more_len) {
  size_t need = 4 + 4 + 4 + 4;  // PCRIndex, EventType, count, EventSize
  for (size_t i = 0; i < banks_.count; ++i) need += 2 + digest_size(banks_.alg[i]);
  if (len > cap_ || more_len > cap_ || !room(need + len + more_len)) return false;
  u32(pcr);
  u32(type);
  u32(static_cast<uint32_t>(banks_.count));  // TPML_DIGEST_VALUES.count
  for (size_t i = 0; i < banks_.count; ++i) {
    u16(static_cast<uint16_t>(banks_.alg[i]));
    put(digests.d[i], digest_size(banks_.alg[i]));
  }
  u32(static_cast<uint32_t>(len + more_len));
  put(data, len);
  put(more, more_len);
  return true;
}

PcrReplay::PcrReplay(const Banks& banks) : banks_(banks) {}

void PcrReplay::extend(uint32_t pcr, const Digests& digests) {
  if (pcr >= kPcrCount) return;
  for (size_t i = 0; i < banks_.count; ++i) {
    const size_t n = digest_size(banks_.alg[i]);
    Hasher h(banks_.alg[i]);
    h.update(v_[i][pcr], n);
    h.update(digests.d[i], n);
    h.final(v_[i][pcr]);
  }
}

}  // namespace mamori::measure
