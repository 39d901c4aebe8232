// The physical-TPM client parses every response defensively: a scripted
// transport feeds it well-formed and malformed responses.
#include <sys/stat.h>
#include <unistd.h>

#include <catch.hpp>
#include <deque>
#include <string>

#include "hex.hpp"
#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm/tpm_client.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

using namespace mamori::vtpm::migration;
namespace protocol = mamori::vtpm::protocol;
using test::unhex;
using Bytes = std::vector<uint8_t>;

namespace {

class ScriptedTransport : public tpm::Transport {
 public:
  std::deque<Bytes> responses;
  std::vector<Bytes> commands;
  Bytes transact(protocol::ByteSpan c) override {
    commands.emplace_back(c.data, c.data + c.size);
    REQUIRE(!responses.empty());
    Bytes r = responses.front();
    responses.pop_front();
    return r;
  }
  std::string describe() const override { return "scripted"; }
};

Bytes response(uint16_t tag, uint32_t rc, const Bytes& body) {
  Bytes r(10 + body.size());
  protocol::ByteWriter w(r.data(), r.size());
  w.u16(tag);
  w.u32(static_cast<uint32_t>(r.size()));
  w.u32(rc);
  w.bytes(body.data(), body.size());
  return r;
}

}  // namespace

TEST_CASE("GetRandom: well-formed response and command bytes") {
  ScriptedTransport t;
  tpm::TpmClient c(t);
  t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0004deadbeef")));
  CHECK(c.get_random(4) == unhex("deadbeef"));
  // TPM2_GetRandom: tag 8001, size 12, cc 0000017B, bytesRequested 4
  CHECK(t.commands[0] == unhex("80010000000c0000017b0004"));
}

TEST_CASE("GetRandom loops when the TPM returns fewer bytes") {
  ScriptedTransport t;
  tpm::TpmClient c(t);
  t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0002aabb")));
  t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0001cc")));
  CHECK(c.get_random(3) == unhex("aabbcc"));
}

TEST_CASE("malformed responses are refused, never trusted") {
  ScriptedTransport t;
  tpm::TpmClient c(t);
  SECTION("size field disagrees with the bytes") {
    Bytes r = response(tpm2::kStNoSessions, 0, unhex("0002aabb"));
    r[5] += 1;
    t.responses.push_back(r);
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("TPM2B larger than the body") {
    t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0010aabb")));
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("more bytes than asked") {
    t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0003aabbcc")));
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("trailing bytes") {
    t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0002aabb00")));
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("wrong tag for a command without sessions") {
    t.responses.push_back(response(tpm2::kStSessions, 0, unhex("0002aabb")));
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("an error code with a body") {
    t.responses.push_back(response(tpm2::kStNoSessions, 0x101, unhex("00")));
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("short header") {
    t.responses.push_back(unhex("8001000000"));
    CHECK_THROWS_AS(c.get_random(2), MigrationError);
  }
  SECTION("a session response whose parameterSize overruns") {
    // Unseal: params size 0x100 but only a few bytes follow
    t.responses.push_back(response(tpm2::kStSessions, 0, unhex("000001000002aabb")));
    CHECK_THROWS_AS(c.unseal(0x80000001), MigrationError);
  }
  SECTION("a session response without its auth area") {
    t.responses.push_back(response(tpm2::kStSessions, 0, unhex("000000040002aabb")));
    CHECK_THROWS_AS(c.unseal(0x80000001), MigrationError);
  }
}

TEST_CASE("TPM_RC_RETRY and TPM_RC_YIELDED make the client send the command again") {
  ScriptedTransport t;
  tpm::TpmClient c(t);
  t.responses.push_back(response(tpm2::kStNoSessions, 0x922, {}));  // TPM_RC_RETRY
  t.responses.push_back(response(tpm2::kStNoSessions, 0x908, {}));  // TPM_RC_YIELDED
  t.responses.push_back(response(tpm2::kStNoSessions, 0, unhex("0001aa")));
  CHECK(c.get_random(1) == unhex("aa"));
  REQUIRE(t.commands.size() == 3);
  CHECK(t.commands[0] == t.commands[2]);
  // ... but not forever
  for (int i = 0; i < 100; ++i) t.responses.push_back(response(tpm2::kStNoSessions, 0x922, {}));
  CHECK_THROWS_AS(c.get_random(1), tpm::TpmError);
}

TEST_CASE("TPM error codes surface as TpmError with the base code") {
  ScriptedTransport t;
  tpm::TpmClient c(t);
  // TPM_RC_INTEGRITY for parameter 3 (format 1: 0x080 | 0x01F | P bit | N=3)
  t.responses.push_back(response(tpm2::kStNoSessions, 0x3DF, {}));
  try {
    c.import(0x80000000, {}, {}, {});
    FAIL("no error");
  } catch (const tpm::TpmError& e) {
    CHECK(e.rc() == 0x3DF);
    CHECK(e.base() == 0x09F);
    CHECK(std::string(e.what()).find("INTEGRITY") != std::string::npos);
  }
}

TEST_CASE("Unseal: a well-formed session response") {
  ScriptedTransport t;
  tpm::TpmClient c(t);
  // parameterSize 4, TPM2B 0002 aabb, auth: nonce 0000, attrs 01, hmac 0000
  t.responses.push_back(response(tpm2::kStSessions, 0, unhex("000000040002aabb0000010000")));
  CHECK(c.unseal(0x80000001) == unhex("aabb"));
  // command: tag 8002, cc Unseal, handle, authSize 9, TPM_RS_PW, empty nonce, attrs 0, empty hmac
  CHECK(t.commands[0] == unhex("80020000001b0000015e8000000100000009400000090000000000"));
}

TEST_CASE("the device transport: one write, one whole-response read") {
  // A FIFO opened read-write hands back what was written: a "command" that
  // is itself a well-formed response proves the write/read/size path.
  std::string path = "/tmp/mamori-mig-fifo-" + std::to_string(getpid());
  unlink(path.c_str());
  REQUIRE(mkfifo(path.c_str(), 0600) == 0);
  {
    auto t = tpm::open_transport("device:" + path);
    Bytes ok = response(tpm2::kStNoSessions, 0, unhex("0002aabb"));
    CHECK(t->transact({ok.data(), ok.size()}) == ok);
    Bytes lying = ok;
    lying[5] = 0x40;  // declares 64 bytes, 14 arrive
    CHECK_THROWS_AS(t->transact({lying.data(), lying.size()}), MigrationError);
  }
  unlink(path.c_str());
  CHECK_THROWS_AS(tpm::open_transport("device:/nonexistent/tpm"), MigrationError);
  CHECK_THROWS_AS(tpm::open_transport("bogus"), MigrationError);
  CHECK_THROWS_AS(tpm::open_transport("swtpm:nohostport"), MigrationError);
}
