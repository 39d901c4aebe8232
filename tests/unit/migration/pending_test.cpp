#include <catch.hpp>

#include "hex.hpp"
#include "vtpm/migration/files.hpp"
#include "vtpm/migration/protocol/session_keys.hpp"
#include "vtpm/migration/protocol/source.hpp"

using namespace mamori::vtpm::migration;

TEST_CASE("pending record round trip and corruption") {
  PendingMigration p;
  for (size_t i = 0; i < kVmIdSize; ++i) p.vm_id[i] = static_cast<uint8_t>(i);
  p.nonce[0] = 9;
  p.epoch = 1234;
  p.ack_key = test::iota(32);
  p.permanent = test::iota(100);
  p.volatile_state = test::iota(10, 50);
  Bytes b = encode_pending(p);
  PendingMigration q;
  REQUIRE(decode_pending(b, q));
  CHECK(q.epoch == 1234);
  CHECK(q.nonce[0] == 9);
  CHECK(q.ack_key == p.ack_key);
  CHECK(q.permanent == p.permanent);
  CHECK(q.volatile_state == p.volatile_state);
  CHECK(q.savestate.empty());
  for (size_t n = 0; n < b.size(); ++n) {
    Bytes t(b.begin(), b.begin() + static_cast<long>(n));
    PendingMigration r;
    CHECK_FALSE(decode_pending(t, r));
  }
}

TEST_CASE("VM ids parse and format") {
  uint8_t id[kVmIdSize];
  REQUIRE(parse_vm_id("11111111-2222-3333-4444-555555555555", id));
  CHECK(format_vm_id(id) == "11111111-2222-3333-4444-555555555555");
  CHECK_FALSE(parse_vm_id("1111", id));
  CHECK_FALSE(parse_vm_id("11111111-2222-3333-4444-55555555555g", id));
  CHECK_FALSE(parse_vm_id("11111111-2222-3333-4444-5555555555551", id));
}

TEST_CASE("session keys are distinct and bound to the nonce") {
  Bytes k = test::iota(32), n1(32, 1), n2(32, 2), vm(16, 7);
  SessionKeys a = derive_session_keys(crypto::span(k), crypto::span(n1), crypto::span(vm));
  SessionKeys b = derive_session_keys(crypto::span(k), crypto::span(n2), crypto::span(vm));
  CHECK(a.state_key != a.header_key);
  CHECK(a.header_key != a.ack_key);
  CHECK(a.state_key != b.state_key);
  CHECK(a.state_key.size() == 32);
}
