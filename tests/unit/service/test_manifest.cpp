#include <catch.hpp>
#include <string.h>

#include "vtpm/service/state/manifest.hpp"

using namespace mamori::vtpm::state;

TEST_CASE("manifest: round trip and format errors") {
  Manifest m;
  for (size_t i = 0; i < kInstanceSize; ++i) m.instance[i] = static_cast<uint8_t>(i);
  m.generation = 0x0102030405060708ull;
  m.epoch = 42;
  m.files[0].present = true;
  m.files[0].digest[31] = 0xAA;
  m.files[2].present = true;
  uint8_t buf[kManifestSize];
  REQUIRE(encode_manifest(m, buf, sizeof(buf)) == kManifestSize);
  Manifest back;
  REQUIRE(parse_manifest(buf, sizeof(buf), back) == ManifestError::none);
  CHECK(back.generation == m.generation);
  CHECK(back.epoch == 42);
  CHECK(back.instance[31] == 31);
  CHECK(back.files[0].present);
  CHECK(back.files[0].digest[31] == 0xAA);
  CHECK_FALSE(back.files[1].present);
  CHECK(back.files[2].present);

  CHECK(parse_manifest(buf, sizeof(buf) - 1, back) == ManifestError::bad_size);
  CHECK(parse_manifest(nullptr, sizeof(buf), back) == ManifestError::bad_size);
  uint8_t bad[kManifestSize];
  memcpy(bad, buf, sizeof(buf));
  bad[0] = 'X';
  CHECK(parse_manifest(bad, sizeof(bad), back) == ManifestError::bad_magic);
  memcpy(bad, buf, sizeof(buf));
  bad[9] = 2;
  CHECK(parse_manifest(bad, sizeof(bad), back) == ManifestError::bad_version);
  memcpy(bad, buf, sizeof(buf));
  bad[11] = 1;
  CHECK(parse_manifest(bad, sizeof(bad), back) == ManifestError::bad_reserved);
  memcpy(bad, buf, sizeof(buf));
  bad[60] = 2;
  CHECK(parse_manifest(bad, sizeof(bad), back) == ManifestError::bad_flag);
  uint8_t small[kManifestSize - 1];
  CHECK(encode_manifest(m, small, sizeof(small)) == 0);
}
