#include "vtpm/service/bench/tpm_commands.hpp"

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::bench {

namespace {

// TPM 2.0 Part 2 constants.
constexpr uint16_t kStNoSessions = 0x8001;
constexpr uint16_t kStSessions = 0x8002;
constexpr uint16_t kStHashcheck = 0x8024;
constexpr uint32_t kCcStartup = 0x144;
constexpr uint32_t kCcGetRandom = 0x17B;
constexpr uint32_t kCcPcrExtend = 0x182;
constexpr uint32_t kCcCreatePrimary = 0x131;
constexpr uint32_t kCcSign = 0x15D;
constexpr uint32_t kRhOwner = 0x40000001;
constexpr uint32_t kRhNull = 0x40000007;
constexpr uint32_t kRsPw = 0x40000009;
constexpr uint16_t kAlgRsa = 0x0001;
constexpr uint16_t kAlgSha256 = 0x000B;
constexpr uint16_t kAlgNull = 0x0010;
constexpr uint16_t kAlgRsassa = 0x0014;
constexpr uint16_t kAlgEcdsa = 0x0018;
constexpr uint16_t kAlgEcc = 0x0023;
constexpr uint16_t kEccNistP256 = 0x0003;
constexpr uint16_t kRsaBits = 2048;
constexpr size_t kSha256Size = 32;
// objectAttributes (Part 2 §8.3): fixedTPM | fixedParent |
// sensitiveDataOrigin | userWithAuth | sign.
constexpr uint32_t kSigningKeyAttributes = (1u << 1) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 18);

class Builder {
 public:
  Builder() = default;  // a structure, not a command: no header
  Builder(uint16_t tag, uint32_t code) : command_(true) {
    u16(tag);
    u32(0);  // size, patched in done()
    u32(code);
  }
  Builder& u8(uint8_t v) { b_.push_back(v); return *this; }
  Builder& u16(uint16_t v) { uint8_t t[2]; protocol::store_be16(t, v); b_.insert(b_.end(), t, t + 2); return *this; }
  Builder& u32(uint32_t v) { uint8_t t[4]; protocol::store_be32(t, v); b_.insert(b_.end(), t, t + 4); return *this; }
  Builder& fill(size_t n, uint8_t v) { b_.insert(b_.end(), n, v); return *this; }
  // Authorization area with one empty password session.
  Builder& password_session() {
    u32(4 + 2 + 1 + 2);  // authorizationSize
    u32(kRsPw);
    u16(0);  // nonce
    u8(0);   // sessionAttributes
    u16(0);  // hmac (empty password)
    return *this;
  }
  Bytes done() {
    if (command_) protocol::store_be32(b_.data() + 2, static_cast<uint32_t>(b_.size()));
    return b_;
  }

 private:
  bool command_ = false;
  Bytes b_;
};

}  // namespace

Bytes startup_clear() { return Builder(kStNoSessions, kCcStartup).u16(0).done(); }

Bytes get_random(uint16_t n) { return Builder(kStNoSessions, kCcGetRandom).u16(n).done(); }

Bytes pcr_extend_sha256(uint32_t pcr, uint8_t fill) {
  Builder b(kStSessions, kCcPcrExtend);
  b.u32(pcr).password_session();
  b.u32(1).u16(kAlgSha256).fill(kSha256Size, fill);  // TPML_DIGEST_VALUES
  return b.done();
}

Bytes create_primary_signing(KeyKind k) {
  Builder pub;  // TPMT_PUBLIC
  if (k == KeyKind::ecc_p256) {
    pub.u16(kAlgEcc).u16(kAlgSha256).u32(kSigningKeyAttributes).u16(0);
    pub.u16(kAlgNull);                    // symmetric: none
    pub.u16(kAlgEcdsa).u16(kAlgSha256);   // scheme
    pub.u16(kEccNistP256);
    pub.u16(kAlgNull);                    // kdf
    pub.u16(0).u16(0);                    // unique: empty point
  } else {
    pub.u16(kAlgRsa).u16(kAlgSha256).u32(kSigningKeyAttributes).u16(0);
    pub.u16(kAlgNull);
    pub.u16(kAlgRsassa).u16(kAlgSha256);
    pub.u16(kRsaBits).u32(0);             // default exponent
    pub.u16(0);                           // unique: empty modulus
  }
  const Bytes body = pub.done();
  Builder b(kStSessions, kCcCreatePrimary);
  b.u32(kRhOwner).password_session();
  b.u16(4).u16(0).u16(0);  // TPM2B_SENSITIVE_CREATE: empty userAuth and data
  b.u16(static_cast<uint16_t>(body.size()));
  for (uint8_t v : body) b.u8(v);
  b.u16(0);   // outsideInfo
  b.u32(0);   // creationPCR: empty selection
  return b.done();
}

Bytes sign_sha256(uint32_t key, KeyKind k, uint8_t fill) {
  Builder b(kStSessions, kCcSign);
  b.u32(key).password_session();
  b.u16(kSha256Size).fill(kSha256Size, fill);
  b.u16(k == KeyKind::ecc_p256 ? kAlgEcdsa : kAlgRsassa).u16(kAlgSha256);
  b.u16(kStHashcheck).u32(kRhNull).u16(0);  // NULL ticket: the key is unrestricted
  return b.done();
}

uint32_t response_code(const Bytes& rsp) { return rsp.size() >= 10 ? protocol::load_be32(rsp.data() + 6) : 0xFFFFFFFF; }

uint32_t response_handle(const Bytes& rsp) { return rsp.size() >= 14 ? protocol::load_be32(rsp.data() + 10) : 0; }

}  // namespace mamori::vtpm::bench
