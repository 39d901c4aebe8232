// libFuzzer target: the state-blob import path. The first byte picks the
// blob type; the rest is the blob. It goes through our structural check
// and, if that passes, through TpmEngine::set_state, i.e. libtpms'
// TPMLIB_ValidateState, exactly as a migrated or SET_STATEBLOB blob would.
// (A crash inside the trial process is contained, not a finding of this
// target; it is libtpms' bug, see host/isolated_validation.hpp.)
// The same bytes are also parsed as a sealed state file and opened.
//
// Mode bit (data[0] & 0x80): raw bytes as the blob, or a real blob (made
// by libtpms at start-up) edited by the input: truncated and patched at
// chosen offsets. The second mode gets deep into libtpms' unmarshalling,
// where its past out-of-bounds bugs were.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/host/isolated_validation.hpp"
#include "vtpm/service/state/blob_check.hpp"
#include "vtpm/service/state/sealer.hpp"
#include "vtpm/service/state/swtpm_blob.hpp"

using namespace mamori::vtpm;

namespace {

std::vector<uint8_t> g_templates[4];

// Applies the input to a template: u16 truncation, then (u16 offset, u8 xor) patches.
std::vector<uint8_t> edit(const std::vector<uint8_t>& tmpl, const uint8_t* in, size_t n) {
  std::vector<uint8_t> out = tmpl;
  if (out.empty() || n < 2) return out;
  const size_t cut = (static_cast<size_t>(in[0]) << 8 | in[1]) % (out.size() + 1);
  if (cut != 0) out.resize(out.size() - cut % 64);  // small truncations keep the rest meaningful
  for (size_t i = 2; i + 3 <= n && !out.empty(); i += 3) {
    const size_t off = (static_cast<size_t>(in[i]) << 8 | in[i + 1]) % out.size();
    out[off] ^= in[i + 2];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  engine::TpmEngine& tpm = engine::TpmEngine::instance();
  if (tpm.init(false) != 0) return 0;
  tpm.get_state(protocol::BlobType::permanent, g_templates[1]);
  tpm.get_state(protocol::BlobType::volatile_state, g_templates[2]);
  tpm.stop();
  tpm.set_state(protocol::BlobType::permanent, nullptr, 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto type = static_cast<protocol::BlobType>(1 + (data[0] & 0x7F) % 3);
  std::vector<uint8_t> edited;
  const uint8_t* blob = data + 1;
  size_t len = size - 1;
  if ((data[0] & 0x80) != 0) {
    edited = edit(g_templates[static_cast<size_t>(type)], data + 1, size - 1);
    blob = edited.data();
    len = edited.size();
  }
  const state::BlobCheck c = state::check_state_blob(type, blob, len);
  engine::TpmEngine& tpm = engine::TpmEngine::instance();
  // As the host-mode service does: only a blob that a trial process loaded
  // without crashing reaches this process's libtpms.
  uint32_t rc = 1;
  if (len == 0 || c != state::BlobCheck::ok) {
    rc = tpm.set_state(type, blob, len);  // refused before libtpms is involved
  } else if (host::validate_isolated(tpm, type, blob, len) == host::Isolated::accepted) {
    rc = tpm.set_state(type, blob, len);
    if (rc != 0) __builtin_trap();  // the trial accepted it: so must we
  }
  // Anything our check refuses must be refused by the engine too.
  if (c != state::BlobCheck::ok && len > 0 && rc == 0) __builtin_trap();
  std::vector<uint8_t> back;
  if (rc == 0 && len > 0) {
    tpm.get_state(type, back);
    if (back.size() != len) __builtin_trap();
  }
  tpm.set_state(type, nullptr, 0);  // forget it: every input starts from empty

  // swtpm's envelope: what it yields must lie inside the input.
  const uint8_t* inner = nullptr;
  size_t inner_len = 0;
  if (state::unwrap_swtpm_blob(data, size, &inner, &inner_len) == state::SwtpmBlob::unwrapped) {
    if (inner < data || inner + inner_len > data + size) __builtin_trap();
  }

  state::SealingKey key{};
  key.fill(0x5A);
  std::vector<uint8_t> plain;
  std::string detail;
  if (state::open_sealed(key, type, data, size, plain, detail) == state::OpenError::none) {
    if (plain.size() + state::kSealedHeaderSize + state::kSealedTagSize != size) __builtin_trap();
  }
  return 0;
}
