// libFuzzer target: the parsers of the host-mode state directory that run
// on attacker-writable files before (sealed header) and after (manifest)
// authentication. Any input is parsed without overrun; whatever parses
// re-encodes to the same bytes.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cstdlib>

#include "vtpm/service/state/manifest.hpp"
#include "vtpm/service/state/sealed_format.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"

using namespace mamori::vtpm::state;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SealedHeader h{};
  if (parse_sealed_header(data, size, h) == SealedError::none) {
    FUZZ_ASSERT(size == kSealedHeaderSize + h.length + kSealedTagSize);
    uint8_t out[kSealedHeaderSize];
    FUZZ_ASSERT(encode_sealed_header(h, out, sizeof(out)) == kSealedHeaderSize);
    FUZZ_ASSERT(memcmp(out, data, kSealedHeaderSize) == 0);
  }
  Manifest m;
  if (parse_manifest(data, size, m) == ManifestError::none) {
    uint8_t out[kManifestSize];
    FUZZ_ASSERT(encode_manifest(m, out, sizeof(out)) == kManifestSize);
    FUZZ_ASSERT(size == kManifestSize && memcmp(out, data, kManifestSize) == 0);
  }
  return 0;
}
