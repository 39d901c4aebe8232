// Where the sealing key comes from: "file:PATH" or "fd:N" (an inherited
// descriptor, read to EOF, so the key never touches the file system).
// Contents: 32 raw bytes, or 64 hexadecimal digits with optional newline.
#pragma once
#include <string>

#include "vtpm/service/state/sealer.hpp"

namespace mamori::vtpm::state {

bool load_key(const std::string& spec, SealingKey& out, std::string& err);
// Decodes key material (raw or hex); exposed for tests.
bool decode_key(const std::string& bytes, SealingKey& out, std::string& err);

}  // namespace mamori::vtpm::state
