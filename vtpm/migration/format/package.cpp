#include "vtpm/migration/format/package.hpp"

#include <initializer_list>
#include <utility>

#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration {

namespace {
constexpr uint16_t kNoFlags = 0;  // reserved for later versions; must be 0 in v1
// A TPM2B_NAME of a SHA-256 object: nameAlg (2) || digest (32), Part 1 §16.
constexpr size_t kSha256NameSize = 2 + tpm2::kSha256DigestSize;

// Reads a TPM2B, telling a size field over the structure's maximum
// (malformed) apart from running out of input (truncated).
ParseError read_2b(protocol::ByteReader& r, size_t max, protocol::ByteSpan& out) {
  uint16_t n = r.u16();
  if (!r.ok()) return ParseError::kTruncated;
  if (n > max) return ParseError::kMalformed;
  out = r.bytes(n);
  return r.ok() ? ParseError::kOk : ParseError::kTruncated;
}

void copy(uint8_t* dst, protocol::ByteSpan src) {
  for (size_t i = 0; i < src.size; ++i) dst[i] = src.data[i];
}
}  // namespace

ParseError parse_package(const uint8_t* data, size_t size, PackageView& out) {
  out = PackageView{};
  if (size > kMaxPackageSize) return ParseError::kOversized;
  protocol::ByteReader r(data, size);
  uint32_t magic = r.u32();
  if (!r.ok()) return ParseError::kTruncated;
  if (magic != kPackageMagic) return ParseError::kBadMagic;
  PackageHeader& h = out.header;
  h.version = r.u16();
  if (!r.ok()) return ParseError::kTruncated;
  if (h.version != kFormatVersion) return ParseError::kUnknownVersion;
  uint16_t flags = r.u16();
  protocol::ByteSpan vm = r.bytes(kVmIdSize);
  protocol::ByteSpan nonce = r.bytes(kNonceSize);
  h.source_name = r.tpm2b(tpm2::kMaxNameSize);
  h.destination_name = r.tpm2b(tpm2::kMaxNameSize);
  h.epoch = r.u64();
  h.permanent_len = r.u32();
  h.volatile_len = r.u32();
  h.savestate_len = r.u32();
  protocol::ByteSpan iv = r.bytes(kGcmIvSize);
  if (!r.ok()) return ParseError::kTruncated;
  if (flags != kNoFlags) return ParseError::kMalformed;
  if (h.source_name.size != kSha256NameSize || h.destination_name.size != kSha256NameSize)
    return ParseError::kMalformed;
  if (h.permanent_len > kMaxBlobSize || h.volatile_len > kMaxBlobSize || h.savestate_len > kMaxBlobSize)
    return ParseError::kOversized;
  // A vTPM without permanent state is not a vTPM (libtpms always has one).
  if (h.permanent_len == 0) return ParseError::kMalformed;
  copy(h.vm_id, vm);
  copy(h.nonce, nonce);
  copy(h.gcm_iv, iv);

  for (auto [field, max] : {std::pair{&out.wrap.dup_public, size_t{tpm2::kMaxPublicSize}},
                             std::pair{&out.wrap.dup_private, size_t{tpm2::kMaxPrivateSize}},
                             std::pair{&out.wrap.in_sym_seed, size_t{tpm2::kMaxEncryptedSecret}}}) {
    if (ParseError e = read_2b(r, max, *field); e != ParseError::kOk) return e;
  }
  if (out.wrap.dup_public.size == 0 || out.wrap.dup_private.size == 0 || out.wrap.in_sym_seed.size == 0)
    return ParseError::kMalformed;
  out.mac_input = {data, r.position()};
  out.header_mac = r.bytes(kHeaderMacSize);
  if (!r.ok()) return ParseError::kTruncated;
  out.aad = {data, r.position()};

  uint64_t body = out.state_size();
  if (r.remaining() < body + kGcmTagSize) return ParseError::kTruncated;
  if (r.remaining() > body + kGcmTagSize) return ParseError::kOversized;
  out.ciphertext = r.bytes(static_cast<size_t>(body));
  out.tag = r.bytes(kGcmTagSize);
  return r.at_end() ? ParseError::kOk : ParseError::kMalformed;
}

size_t write_package_prefix(uint8_t* out, size_t capacity, const PackageHeader& h, const WrappedKey& wrap) {
  protocol::ByteWriter w(out, capacity);
  w.u32(kPackageMagic);
  w.u16(h.version);
  w.u16(kNoFlags);
  w.bytes(h.vm_id, kVmIdSize);
  w.bytes(h.nonce, kNonceSize);
  w.tpm2b(h.source_name);
  w.tpm2b(h.destination_name);
  w.u64(h.epoch);
  w.u32(h.permanent_len);
  w.u32(h.volatile_len);
  w.u32(h.savestate_len);
  w.bytes(h.gcm_iv, kGcmIvSize);
  w.tpm2b(wrap.dup_public);
  w.tpm2b(wrap.dup_private);
  w.tpm2b(wrap.in_sym_seed);
  return w.ok() ? w.size() : 0;
}

}  // namespace mamori::vtpm::migration
