// Validation of an untrusted state blob in a throwaway child process.
//
// libtpms 0.9.2 crashes (out-of-bounds read) while unmarshalling some
// corrupted permanent-state blobs inside TPMLIB_ValidateState; our fuzz
// target tests/fuzz/service/fuzz_state_blob found such inputs (kept in
// tests/fuzz/service/regressions/). Structural checks cannot rule this out
// for a blob without a digest, so in host mode a blob from a client
// (SET_STATEBLOB) is first loaded by a fork()ed copy of this process: if
// that copy dies or refuses the blob, the blob is refused and this process
// never touches it. (Partition mode may not fork; there the holder feeds
// only authenticated blobs and can run the same check in a throwaway
// vtpm-service process, see docs/vtpm.md.)
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vtpm/service/engine/tpm_engine.hpp"

namespace mamori::vtpm::host {

enum class Isolated : uint8_t { accepted, refused, crashed, fork_failed };

Isolated validate_isolated(engine::TpmEngine& tpm, engine::BlobType type, const uint8_t* data, size_t len);
const char* isolated_name(Isolated r);

}  // namespace mamori::vtpm::host
