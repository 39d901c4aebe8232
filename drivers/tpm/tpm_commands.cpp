#include "drivers/tpm/tpm_commands.hpp"

#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::drivers::tpm {
namespace {
namespace t2 = vtpm::migration::tpm2;
using vtpm::protocol::ByteReader;
using vtpm::protocol::ByteSpan;
using vtpm::protocol::ByteWriter;

constexpr uint16_t kMaxRandomPerCall = 32;
constexpr uint8_t kSelect24 = 3;  // sizeofSelect for the PC client's 24 PCRs (PTP §4.3 / PC Client PFP)
constexpr uint32_t kMaxPcr = 8u * kSelect24 - 1;

void put_selection(ByteWriter& w, uint16_t alg, uint32_t pcr) {
  w.u32(1);  // TPML_PCR_SELECTION.count
  w.u16(alg);
  w.u8(kSelect24);
  for (uint8_t i = 0; i < kSelect24; ++i) w.u8(i == pcr / 8 ? static_cast<uint8_t>(1u << (pcr % 8)) : 0);
}

// TPMS_CAPABILITY_DATA header after moreData: the capability must be the one asked for.
bool capability_header(ByteReader& r, uint32_t cap) {
  r.u8();  // moreData: the callers ask for what one response holds
  return r.u32() == cap && r.ok();
}

void copy_ascii(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>(v >> (24 - 8 * i));
    dst[i] = (c >= 0x20 && c < 0x7F) ? c : (c == 0 ? 0 : '?');
  }
}

// The string the four-byte chunks spell, without the NULs some TPMs pad
// each chunk with (libtpms: "SW  ", " TPM", 0, 0).
void squeeze(char* s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; ++i)
    if (s[i] != 0) s[o++] = s[i];
  for (; o < n; ++o) s[o] = 0;
}
}  // namespace

size_t digest_size(uint16_t alg) {
  switch (alg) {
    case t2::kAlgSha1: return 20;
    case t2::kAlgSha256: return 32;
    case t2::kAlgSha384: return 48;
    case t2::kAlgSha512: return 64;
    case t2::kAlgSm3_256: return 32;
  }
  return 0;
}

const char* alg_name(uint16_t alg) {
  switch (alg) {
    case t2::kAlgSha1: return "sha1";
    case t2::kAlgSha256: return "sha256";
    case t2::kAlgSha384: return "sha384";
    case t2::kAlgSha512: return "sha512";
    case t2::kAlgSm3_256: return "sm3_256";
  }
  return "?";
}

const char* parse_tpm_properties(const uint8_t* params, size_t len, TpmProperties& out) {
  out = TpmProperties{};
  ByteReader r(params, len);
  if (!capability_header(r, t2::kCapTpmProperties)) return "capability is not TPM_CAP_TPM_PROPERTIES";
  uint32_t n = r.u32();  // TPML_TAGGED_TPM_PROPERTY.count
  if (!r.ok() || n > t2::kMaxTpmProperties) return "property count";
  char vendor[16] = {};
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t prop = r.u32(), v = r.u32();
    if (!r.ok()) return "property list shorter than its count";
    if (prop == t2::kPtManufacturer) copy_ascii(out.manufacturer, v);
    else if (prop >= t2::kPtVendorString1 && prop <= t2::kPtVendorString4)
      copy_ascii(vendor + 4 * (prop - t2::kPtVendorString1), v);
    else if (prop == t2::kPtFirmwareVersion1) out.firmware1 = v;
    else if (prop == t2::kPtFirmwareVersion2) out.firmware2 = v;
  }
  if (!r.at_end()) return "bytes after the property list";
  for (size_t i = 0; i < sizeof vendor; ++i) out.vendor[i] = vendor[i];
  squeeze(out.vendor, sizeof vendor);
  squeeze(out.manufacturer, 4);
  return nullptr;
}

const char* parse_pcr_banks(const uint8_t* params, size_t len, PcrBanks& out) {
  out = PcrBanks{};
  ByteReader r(params, len);
  if (!capability_header(r, t2::kCapPcrs)) return "capability is not TPM_CAP_PCRS";
  uint32_t n = r.u32();  // TPML_PCR_SELECTION.count
  if (!r.ok() || n > t2::kHashCount) return "bank count";
  for (uint32_t i = 0; i < n; ++i) {
    uint16_t alg = r.u16();
    uint8_t size = r.u8();
    if (!r.ok() || size > t2::kPcrSelectMax) return "sizeofSelect";
    ByteSpan sel = r.bytes(size);
    if (!r.ok()) return "pcrSelect shorter than sizeofSelect";
    unsigned pcrs = 0;
    for (size_t b = 0; b < sel.size; ++b)
      for (uint8_t bits = sel.data[b]; bits; bits &= static_cast<uint8_t>(bits - 1)) ++pcrs;
    if (pcrs == 0) continue;  // implemented but not allocated
    if (out.count == kMaxPcrBanks) return "more banks than the driver tracks";
    out.alg[out.count] = alg;
    out.pcr_count[out.count] = static_cast<uint8_t>(pcrs);
    ++out.count;
  }
  if (!r.at_end()) return "bytes after the bank list";
  return nullptr;
}

const char* parse_pcr_read(const uint8_t* params, size_t len, uint16_t alg, uint32_t pcr, uint8_t* digest,
                           size_t& digest_len) {
  digest_len = 0;
  ByteReader r(params, len);
  r.u32();  // pcrUpdateCounter
  uint32_t banks = r.u32();  // pcrSelectionOut
  if (!r.ok() || banks > 1) return "pcrSelectionOut count";
  bool selected = false;
  if (banks == 1) {
    uint16_t got = r.u16();
    uint8_t size = r.u8();
    if (!r.ok() || got != alg || size > t2::kPcrSelectMax) return "pcrSelectionOut bank";
    ByteSpan sel = r.bytes(size);
    if (!r.ok()) return "pcrSelectionOut select";
    selected = pcr / 8 < sel.size && (sel.data[pcr / 8] >> (pcr % 8) & 1);
  }
  uint32_t n = r.u32();  // TPML_DIGEST.count
  if (!r.ok() || n != (selected ? 1u : 0u)) return "digest count does not match the selection";
  if (!selected) return "PCR not allocated in this bank";
  ByteSpan d = r.tpm2b(kMaxDigestSize);
  if (!r.ok() || d.size != digest_size(alg)) return "digest size";
  if (!r.at_end()) return "bytes after the digest";
  for (size_t i = 0; i < d.size; ++i) digest[i] = d.data[i];
  digest_len = d.size;
  return nullptr;
}

TpmStatus TpmCommands::run(size_t cmd_len, bool sessions, ByteSpan& params, size_t handles_out, uint32_t* handle) {
  TpmStatus s;
  params = {};
  if (cmd_len == 0) {
    s.refused = "command does not fit the buffer";
    return s;
  }
  size_t rsp_len = 0;
  s.transport = t_.transmit(cmd_, cmd_len, rsp_, sizeof rsp_, rsp_len);
  if (s.transport != TpmError::None) return s;
  t2::Response r;
  s.shape = t2::parse_response(rsp_, rsp_len, sessions, handles_out, r);
  s.rc = r.rc;
  params = r.params;
  if (handle) *handle = r.handle;
  return s;
}

TpmStatus TpmCommands::get_random(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    uint16_t want = static_cast<uint16_t>(n - done < kMaxRandomPerCall ? n - done : kMaxRandomPerCall);
    t2::CommandBuilder c(cmd_, sizeof cmd_, t2::kCcGetRandom, false);
    c.w().u16(want);
    ByteSpan p;
    TpmStatus s = run(c.finish(), false, p);
    if (!s.ok()) return s;
    ByteReader r(p.data, p.size);
    ByteSpan got = r.tpm2b(kMaxRandomPerCall);
    if (!r.ok() || !r.at_end() || got.size == 0 || got.size > want) {
      s.refused = "randomBytes size";
      return s;
    }
    for (size_t i = 0; i < got.size; ++i) out[done + i] = got.data[i];
    done += got.size;
  }
  return {};
}

TpmStatus TpmCommands::get_capability(uint32_t cap, uint32_t property, uint32_t count, ByteSpan& params) {
  t2::CommandBuilder c(cmd_, sizeof cmd_, t2::kCcGetCapability, false);
  c.w().u32(cap);
  c.w().u32(property);
  c.w().u32(count);
  return run(c.finish(), false, params);
}

TpmStatus TpmCommands::get_properties(TpmProperties& out) {
  ByteSpan p;
  TpmStatus s = get_capability(t2::kCapTpmProperties, t2::kPtManufacturer,
                               t2::kPtFirmwareVersion2 - t2::kPtManufacturer + 1, p);
  if (s.ok()) s.refused = parse_tpm_properties(p.data, p.size, out);
  return s;
}

TpmStatus TpmCommands::get_pcr_banks(PcrBanks& out) {
  ByteSpan p;
  TpmStatus s = get_capability(t2::kCapPcrs, 0, 1, p);
  if (s.ok()) s.refused = parse_pcr_banks(p.data, p.size, out);
  return s;
}

TpmStatus TpmCommands::pcr_read(uint16_t alg, uint32_t pcr, uint8_t* digest, size_t cap, size_t& digest_len) {
  digest_len = 0;
  TpmStatus s;
  if (pcr > kMaxPcr || digest_size(alg) == 0 || cap < digest_size(alg)) {
    s.refused = "PCR index, bank or digest buffer";
    return s;
  }
  t2::CommandBuilder c(cmd_, sizeof cmd_, t2::kCcPcrRead, false);
  put_selection(c.w(), alg, pcr);
  ByteSpan p;
  s = run(c.finish(), false, p);
  if (s.ok()) s.refused = parse_pcr_read(p.data, p.size, alg, pcr, digest, digest_len);
  return s;
}

TpmStatus TpmCommands::pcr_extend(uint32_t pcr, uint16_t alg, const uint8_t* digest, size_t len) {
  TpmStatus s;
  if (pcr > kMaxPcr || digest_size(alg) == 0 || len != digest_size(alg)) {
    s.refused = "PCR index, bank or digest size";
    return s;
  }
  t2::CommandBuilder c(cmd_, sizeof cmd_, t2::kCcPcrExtend, true);
  c.w().u32(pcr);  // pcrHandle: PCR n is handle n (Part 2 §7.4 TPM_HT_PCR)
  c.auth();        // PCRs 0-23 have the empty authValue
  c.w().u32(1);    // TPML_DIGEST_VALUES.count
  c.w().u16(alg);  // TPMT_HA
  c.w().bytes(digest, len);
  ByteSpan p;
  s = run(c.finish(), true, p);
  if (s.ok() && p.size != 0) s.refused = "PCR_Extend returned parameters";
  return s;
}

TpmStatus TpmCommands::create_storage_key(bool rsa, uint32_t& handle, uint8_t* name, size_t cap, size_t& name_len) {
  handle = 0;
  name_len = 0;
  const t2::PublicArea tmpl = rsa ? t2::srk_template_rsa2048() : t2::srk_template_ecc_p256();
  ByteSpan p;
  uint32_t h = 0;
  TpmStatus s = run(t2::build_create_primary(cmd_, sizeof cmd_, t2::kRhOwner, {}, tmpl), true, p, 1, &h);
  if (!s.ok()) return s;
  t2::CreatedPrimary created;
  s.refused = t2::parse_create_primary(p, created);
  if (!s.refused && (!created.pub.is_storage_parent() || created.name.size > cap)) s.refused = "outPublic is not a storage key, or its name is too long";
  if (!s.refused && created.pub.type != tmpl.type) s.refused = "outPublic type differs from the template";
  if (s.refused) {
    (void)flush_context(h);  // do not leak the object slot
    return s;
  }
  for (size_t i = 0; i < created.name.size; ++i) name[i] = created.name.data[i];
  name_len = created.name.size;
  handle = h;
  return s;
}

TpmStatus TpmCommands::flush_context(uint32_t handle) {
  ByteSpan p;
  TpmStatus s = run(t2::build_flush_context(cmd_, sizeof cmd_, handle), false, p);
  if (s.ok() && p.size != 0) s.refused = "FlushContext returned parameters";
  return s;
}

const char* tpm_status_text(const TpmStatus& s) {
  if (s.transport != TpmError::None) return tpm_error_name(s.transport);
  if (s.shape != ResponseStatus::ok) return vtpm::migration::tpm2::response_status_name(s.shape);
  if (s.refused) return s.refused;
  return "ok";
}

}  // namespace mamori::drivers::tpm
