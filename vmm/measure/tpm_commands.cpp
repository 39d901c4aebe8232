#include "tpm_commands.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::measure {
namespace {
namespace p = vtpm::protocol;
// TPM 2.0 Part 2 §6.5.2 TPM_CC.
constexpr uint32_t kCcStartup = 0x144, kCcPcrExtend = 0x182, kCcGetCapability = 0x17A;
constexpr uint16_t kSuClear = 0x0000;       // §6.5 TPM_SU_CLEAR
constexpr uint32_t kCapPcrs = 0x00000005;   // §6.12 TPM_CAP_PCRS
constexpr uint32_t kRsPw = 0x40000009;      // §7.4 TPM_RS_PW
constexpr uint32_t kPasswordSessionSize = 4 + 2 + 1 + 2;  // handle, nonce (empty), attributes, hmac (empty)

class Out {
 public:
  Out(uint8_t* b, size_t cap) : b_(b), cap_(cap) {}
  void u8(uint8_t v) { if (ok(1)) b_[n_++] = v; }
  void u16(uint16_t v) { if (ok(2)) p::store_be16(b_ + n_, v), n_ += 2; }
  void u32(uint32_t v) { if (ok(4)) p::store_be32(b_ + n_, v), n_ += 4; }
  void bytes(const uint8_t* s, size_t k) {
    if (ok(k)) for (size_t i = 0; i < k; ++i) b_[n_++] = s[i];
  }
  // Sets the header's size field; the length, or 0 if anything overflowed.
  size_t finish() {
    if (bad_ || n_ < p::kTpmHeaderSize) return 0;
    p::store_be32(b_ + p::kTpmSizeFieldOffset, static_cast<uint32_t>(n_));
    return n_;
  }

 private:
  bool ok(size_t k) {
    if (bad_ || !b_ || k > cap_ - n_) bad_ = true;
    return !bad_;
  }
  uint8_t* b_;
  size_t cap_, n_ = 0;
  bool bad_ = false;
};
}  // namespace

size_t encode_startup_clear(uint8_t* out, size_t cap) {
  Out o(out, cap);
  o.u16(p::kTpmStNoSessions);
  o.u32(0);
  o.u32(kCcStartup);
  o.u16(kSuClear);
  return o.finish();
}

size_t encode_get_pcr_banks(uint8_t* out, size_t cap) {
  Out o(out, cap);
  o.u16(p::kTpmStNoSessions);
  o.u32(0);
  o.u32(kCcGetCapability);
  o.u32(kCapPcrs);
  o.u32(0);  // property
  o.u32(1);  // propertyCount
  return o.finish();
}

size_t encode_pcr_extend(uint32_t pcr, const Banks& banks, const Digests& d, uint8_t* out, size_t cap) {
  Out o(out, cap);
  o.u16(p::kTpmStSessions);
  o.u32(0);
  o.u32(kCcPcrExtend);
  o.u32(pcr);  // pcrHandle: PCR n is handle n (Part 2 §7.4, HR_PCR = 0)
  o.u32(kPasswordSessionSize);
  o.u32(kRsPw);
  o.u16(0);    // nonceCaller
  o.u8(0);     // sessionAttributes
  o.u16(0);    // hmac: the empty password
  o.u32(static_cast<uint32_t>(banks.count));  // TPML_DIGEST_VALUES
  for (size_t i = 0; i < banks.count; ++i) {
    o.u16(static_cast<uint16_t>(banks.alg[i]));
    o.bytes(d.d[i], digest_size(banks.alg[i]));
  }
  return o.finish();
}

uint32_t response_code(const uint8_t* rsp, size_t len) {
  p::TpmHeader h;
  return p::parse_header(rsp, len, h) ? h.code : p::kTpmRcFailure;
}

const char* describe(BanksStatus s) {
  switch (s) {
    case BanksStatus::Ok: return "ok";
    case BanksStatus::Malformed: return "malformed TPM_CAP_PCRS response";
    case BanksStatus::Unsupported: return "a PCR bank is allocated whose hash mamori does not implement";
    case BanksStatus::None: return "no PCR bank is allocated";
  }
  return "?";
}

BanksStatus parse_pcr_banks(const uint8_t* rsp, size_t len, Banks& out, uint16_t& unsupported) {
  out = Banks{};
  unsupported = 0;
  // header, moreData (1), capability (4), TPML_PCR_SELECTION.count (4)
  size_t at = p::kTpmHeaderSize;
  if (!rsp || len < at + 1 + 4 + 4 || response_code(rsp, len) != p::kTpmRcSuccess) return BanksStatus::Malformed;
  if (p::load_be32(rsp + at + 1) != kCapPcrs) return BanksStatus::Malformed;
  const uint32_t count = p::load_be32(rsp + at + 5);
  at += 9;
  for (uint32_t i = 0; i < count; ++i) {
    if (len - at < 3) return BanksStatus::Malformed;
    const uint16_t alg = p::load_be16(rsp + at);
    const uint8_t select_size = rsp[at + 2];
    at += 3;
    if (len - at < select_size) return BanksStatus::Malformed;
    bool any = false;
    for (uint8_t k = 0; k < select_size; ++k) any = any || rsp[at + k] != 0;
    at += select_size;
    if (!any) continue;  // implemented but not allocated
    if (!known_hash(alg)) {
      unsupported = alg;
      return BanksStatus::Unsupported;
    }
    if (out.count == kMaxBanks) return BanksStatus::Malformed;  // the same bank listed twice
    for (size_t k = 0; k < out.count; ++k)
      if (static_cast<uint16_t>(out.alg[k]) == alg) return BanksStatus::Malformed;
    out.alg[out.count++] = static_cast<HashAlg>(alg);
  }
  return out.count ? BanksStatus::Ok : BanksStatus::None;
}

}  // namespace mamori::measure
