// The manifest of a host-mode state directory: it binds the sealed files
// together and to the instance (issue 9, finding 7). Each sealed file is
// authenticated alone (sealed_format.hpp), so without the manifest an
// attacker who can write the directory could restore an old file, delete
// one, or move one between instances that share a key. The manifest is
// sealed with the same key (kind kSealedManifest) and lists:
//
//   0  8   magic "MAMORIVM"
//   8  u16 version (big-endian)
//  10  u16 reserved, 0
//  12  32  instance: SHA-256 of --instance-id, or random bytes drawn when
//          the directory was created
//  44  u64 generation: +1 on every write of the directory
//  52  u64 epoch: value of the monotonic counter (a physical TPM's NV
//          counter) this manifest was committed under; 0 without one
//  60  3 x { u8 present, 32 SHA-256 of the sealed file } (permanent,
//          volatile, savestate)
//
// Pure code (fuzzed with the sealed-file header).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::state {

inline constexpr uint8_t kManifestMagic[8] = {'M', 'A', 'M', 'O', 'R', 'I', 'V', 'M'};
inline constexpr uint16_t kManifestVersion = 1;
inline constexpr size_t kDigestSize = 32;  // SHA-256
inline constexpr size_t kInstanceSize = 32;
inline constexpr size_t kManifestFiles = 3;  // blob types 1..3, index = type - 1
inline constexpr size_t kManifestSize = 60 + kManifestFiles * (1 + kDigestSize);

struct ManifestFile {
  bool present = false;
  uint8_t digest[kDigestSize] = {};
};

struct Manifest {
  uint8_t instance[kInstanceSize] = {};
  uint64_t generation = 0;
  uint64_t epoch = 0;
  ManifestFile files[kManifestFiles];
};

enum class ManifestError : uint8_t { none, bad_size, bad_magic, bad_version, bad_reserved, bad_flag };

ManifestError parse_manifest(const uint8_t* data, size_t len, Manifest& out);
// Writes kManifestSize bytes; returns 0 if cap is too small.
size_t encode_manifest(const Manifest& m, uint8_t* out, size_t cap);
const char* manifest_error_name(ManifestError e);

}  // namespace mamori::vtpm::state
