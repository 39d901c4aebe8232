// The monotonic source of the state directory's manifest: an NV counter
// (TPM 2.0 Part 2 §13.4 TPM_NT_COUNTER, Part 3 §31.8 TPM2_NV_Increment) in
// a physical TPM, reached with vtpm-migrate's TPM client and transports
// (the same counter mechanism as its rollback epoch, docs/migration.md). A
// counter only goes up, and the attacker who can rewrite the state
// directory cannot roll it back. One NV index per instance.
#pragma once
#include <stdint.h>

#include <memory>
#include <string>

#include "vtpm/service/state/state_dir.hpp"

namespace mamori::vtpm::state {

// spec: "TRANSPORT,INDEX" with TRANSPORT as vtpm-migrate's --tpm
// (device:/dev/tpmrm0, swtpm:HOST:PORT) and INDEX an NV index handle
// (0x01xxxxxx). Defines the counter on first use. Null with err on failure.
std::unique_ptr<MonotonicCounter> open_tpm_counter(const std::string& spec, std::string& err);

}  // namespace mamori::vtpm::state
