// The engine's contract, against the real libtpms (shared library): state
// reaches the listener before a command returns, refused blobs leave the
// held state alone, and a stopped TPM runs nothing.
#include <catch.hpp>

#include <vector>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/state/blob_digest.hpp"

using namespace mamori::vtpm;
using engine::BlobType;
using engine::TpmEngine;

namespace {

struct Recorder final : engine::StateListener {
  std::vector<std::pair<BlobType, std::vector<uint8_t>>> events;
  uint32_t fail_with = 0;
  uint32_t state_changed(BlobType t, const uint8_t* d, size_t n) override {
    events.emplace_back(t, d ? std::vector<uint8_t>(d, d + n) : std::vector<uint8_t>{});
    return fail_with;
  }
};

const std::vector<uint8_t> kStartupClear = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0};
const std::vector<uint8_t> kShutdownState = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 1};
const std::vector<uint8_t> kGetRandom8 = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8};
constexpr uint32_t kTpmBadOrdinal = 10;
constexpr uint32_t kTpmBadParameter = 3;

uint32_t rc_of(const std::vector<uint8_t>& r) {
  return r.size() < 10 ? 0xFFFFFFFF : (uint32_t(r[6]) << 24 | uint32_t(r[7]) << 16 | uint32_t(r[8]) << 8 | r[9]);
}

}  // namespace

TEST_CASE("engine: lifecycle, state events, refused blobs") {
  TpmEngine& tpm = TpmEngine::instance();
  Recorder rec;
  tpm.set_listener(&rec);
  std::vector<uint8_t> rsp;

  // Stopped: nothing runs.
  tpm.stop();
  CHECK(tpm.execute(kGetRandom8.data(), 12, 0, rsp) == kTpmBadOrdinal);

  // A fresh TPM is manufactured: its permanent state is reported.
  for (auto t : {BlobType::permanent, BlobType::volatile_state, BlobType::savestate}) tpm.set_state(t, nullptr, 0);
  rec.events.clear();
  REQUIRE(tpm.init(false) == 0);
  REQUIRE_FALSE(rec.events.empty());
  CHECK(rec.events.back().first == BlobType::permanent);

  REQUIRE(tpm.execute(kStartupClear.data(), 12, 0, rsp) == 0);
  CHECK(rc_of(rsp) == 0);
  REQUIRE(tpm.execute(kGetRandom8.data(), 12, 0, rsp) == 0);
  CHECK(rsp.size() == 20);

  // Shutdown(STATE) commits the permanent state before execute() returns.
  rec.events.clear();
  REQUIRE(tpm.execute(kShutdownState.data(), 12, 0, rsp) == 0);
  REQUIRE_FALSE(rec.events.empty());
  std::vector<uint8_t> perm;
  REQUIRE(tpm.get_state(BlobType::permanent, perm) == 0);
  CHECK(rec.events.back().second == perm);

  // The volatile blob of a running TPM is fresh and carries a valid digest.
  std::vector<uint8_t> vol;
  REQUIRE(tpm.get_state(BlobType::volatile_state, vol) == 0);
  CHECK(state::volatile_digest_ok(vol.data(), vol.size()));
  auto bad_vol = vol;
  bad_vol[vol.size() / 2] ^= 1;
  CHECK_FALSE(state::volatile_digest_ok(bad_vol.data(), bad_vol.size()));

  // set_state only while stopped; refused blobs keep the held one.
  CHECK(tpm.set_state(BlobType::permanent, perm.data(), perm.size()) == kTpmBadOrdinal);
  tpm.stop();
  auto bad = perm;
  bad[2] ^= 0xFF;
  CHECK(tpm.set_state(BlobType::permanent, bad.data(), bad.size()) == kTpmBadParameter);
  CHECK(tpm.set_state(BlobType::volatile_state, bad_vol.data(), bad_vol.size()) == kTpmBadParameter);
  std::vector<uint8_t> held;
  tpm.get_state(BlobType::permanent, held);
  CHECK(held == perm);

  // A listener that cannot keep the blob makes set_state fail and keeps the old one.
  rec.fail_with = 9;
  CHECK(tpm.set_state(BlobType::volatile_state, vol.data(), vol.size()) == 9);
  rec.fail_with = 0;
  REQUIRE(tpm.set_state(BlobType::volatile_state, vol.data(), vol.size()) == 0);

  // Init from the held state resumes the started TPM (volatile consumed on request).
  rec.events.clear();
  REQUIRE(tpm.init(true) == 0);
  CHECK_FALSE(tpm.has_state(BlobType::volatile_state));
  REQUIRE(tpm.execute(kGetRandom8.data(), 12, 0, rsp) == 0);
  CHECK(rc_of(rsp) == 0);  // no TPM_RC_INITIALIZE: the volatile state was started

  uint32_t size = 0, min_size = 0, max_size = 0;
  CHECK(tpm.buffer_size(0, size, min_size, max_size) == 0);
  CHECK(size == 4096);
  CHECK(tpm.buffer_size(2048, size, min_size, max_size) == kTpmBadOrdinal);  // running
  tpm.stop();
  tpm.set_listener(nullptr);
}
