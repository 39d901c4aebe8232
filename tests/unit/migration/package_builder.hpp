// Test helper: a structurally valid package (random-looking bytes where the
// cryptography would go) built with the pure writer.
#pragma once
#include <vector>

#include "vtpm/migration/format/package.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

namespace mamori::vtpm::migration::test {

struct BuiltPackage {
  std::vector<uint8_t> bytes;
  size_t aad_size = 0;
};

inline BuiltPackage build_package(uint32_t perm = 100, uint32_t vol = 50, uint32_t save = 0, uint64_t epoch = 7) {
  static uint8_t src_name[34], dst_name[34], pub[46], priv[108], seed[256];
  for (size_t i = 0; i < sizeof src_name; ++i) src_name[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < sizeof dst_name; ++i) dst_name[i] = static_cast<uint8_t>(0x80 + i);
  for (auto& b : pub) b = 0x11;
  for (auto& b : priv) b = 0x22;
  for (auto& b : seed) b = 0x33;
  PackageHeader h;
  for (size_t i = 0; i < kVmIdSize; ++i) h.vm_id[i] = static_cast<uint8_t>(0xA0 + i);
  for (size_t i = 0; i < kNonceSize; ++i) h.nonce[i] = static_cast<uint8_t>(i * 3);
  h.source_name = {src_name, sizeof src_name};
  h.destination_name = {dst_name, sizeof dst_name};
  h.epoch = epoch;
  h.permanent_len = perm;
  h.volatile_len = vol;
  h.savestate_len = save;
  WrappedKey w{{pub, sizeof pub}, {priv, sizeof priv}, {seed, sizeof seed}};
  BuiltPackage p;
  p.bytes.resize(4096 + perm + vol + save);
  size_t n = write_package_prefix(p.bytes.data(), p.bytes.size(), h, w);
  p.bytes.resize(n);
  p.bytes.insert(p.bytes.end(), kHeaderMacSize, 0x44);  // header_mac
  p.aad_size = p.bytes.size();
  p.bytes.insert(p.bytes.end(), size_t{perm} + vol + save, 0x55);  // ciphertext
  p.bytes.insert(p.bytes.end(), kGcmTagSize, 0x66);                // tag
  return p;
}

}  // namespace mamori::vtpm::migration::test
