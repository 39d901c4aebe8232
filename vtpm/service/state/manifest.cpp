#include "vtpm/service/state/manifest.hpp"

#include "vtpm/protocol/bytes.hpp"

namespace mamori::vtpm::state {

ManifestError parse_manifest(const uint8_t* data, size_t len, Manifest& out) {
  if (data == nullptr || len != kManifestSize) return ManifestError::bad_size;
  for (size_t i = 0; i < sizeof(kManifestMagic); ++i) {
    if (data[i] != kManifestMagic[i]) return ManifestError::bad_magic;
  }
  if (protocol::load_be16(data + 8) != kManifestVersion) return ManifestError::bad_version;
  if (protocol::load_be16(data + 10) != 0) return ManifestError::bad_reserved;
  Manifest m;
  for (size_t i = 0; i < kInstanceSize; ++i) m.instance[i] = data[12 + i];
  m.generation = protocol::load_be64(data + 44);
  m.epoch = protocol::load_be64(data + 52);
  const uint8_t* p = data + 60;
  for (ManifestFile& f : m.files) {
    if (p[0] > 1) return ManifestError::bad_flag;
    f.present = p[0] == 1;
    for (size_t i = 0; i < kDigestSize; ++i) f.digest[i] = p[1 + i];
    p += 1 + kDigestSize;
  }
  out = m;
  return ManifestError::none;
}

size_t encode_manifest(const Manifest& m, uint8_t* out, size_t cap) {
  if (out == nullptr || cap < kManifestSize) return 0;
  for (size_t i = 0; i < sizeof(kManifestMagic); ++i) out[i] = kManifestMagic[i];
  protocol::store_be16(out + 8, kManifestVersion);
  protocol::store_be16(out + 10, 0);
  for (size_t i = 0; i < kInstanceSize; ++i) out[12 + i] = m.instance[i];
  protocol::store_be64(out + 44, m.generation);
  protocol::store_be64(out + 52, m.epoch);
  uint8_t* p = out + 60;
  for (const ManifestFile& f : m.files) {
    p[0] = f.present ? 1 : 0;
    for (size_t i = 0; i < kDigestSize; ++i) p[1 + i] = f.digest[i];
    p += 1 + kDigestSize;
  }
  return kManifestSize;
}

const char* manifest_error_name(ManifestError e) {
  switch (e) {
    case ManifestError::none: return "none";
    case ManifestError::bad_size: return "manifest has the wrong size";
    case ManifestError::bad_magic: return "not a manifest";
    case ManifestError::bad_version: return "unsupported manifest version";
    case ManifestError::bad_reserved: return "manifest reserved field not zero";
    case ManifestError::bad_flag: return "manifest present flag not 0 or 1";
  }
  return "?";
}

}  // namespace mamori::vtpm::state
