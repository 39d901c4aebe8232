#include "vtpm/migration/format/offer.hpp"

#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration {

ParseError parse_offer(const uint8_t* data, size_t size, OfferView& out) {
  out = OfferView{};
  protocol::ByteReader r(data, size);
  uint32_t magic = r.u32();
  if (!r.ok()) return ParseError::kTruncated;
  if (magic != kOfferMagic) return ParseError::kBadMagic;
  out.version = r.u16();
  if (!r.ok()) return ParseError::kTruncated;
  if (out.version != kFormatVersion) return ParseError::kUnknownVersion;
  out.nonce = r.bytes(kNonceSize);
  if (!r.ok()) return ParseError::kTruncated;
  tpm2::PublicError pe = tpm2::read_public_2b(r, out.srk_public, out.srk_public_raw);
  if (pe == tpm2::PublicError::kTruncated) return r.ok() ? ParseError::kMalformed : ParseError::kTruncated;
  if (pe != tpm2::PublicError::kOk) return ParseError::kBadPublicArea;
  // Only a storage parent can receive a duplicated object (Part 3 §13.3.1:
  // TPM2_Import's parentHandle must be a restricted decryption key).
  if (!out.srk_public.is_storage_parent()) return ParseError::kBadPublicArea;
  out.srk_name = r.tpm2b(tpm2::kMaxNameSize);
  if (!r.ok()) return ParseError::kTruncated;
  if (out.srk_name.size != 2 + tpm2::kSha256DigestSize) return ParseError::kMalformed;
  if (!r.at_end()) return ParseError::kOversized;
  return ParseError::kOk;
}

size_t write_offer(uint8_t* out, size_t capacity, const uint8_t nonce[kNonceSize], protocol::ByteSpan srk_public_raw,
                   protocol::ByteSpan srk_name) {
  protocol::ByteWriter w(out, capacity);
  w.u32(kOfferMagic);
  w.u16(kFormatVersion);
  w.bytes(nonce, kNonceSize);
  w.tpm2b(srk_public_raw);
  w.tpm2b(srk_name);
  return w.ok() ? w.size() : 0;
}

}  // namespace mamori::vtpm::migration
