// The FIFO state machine: idle, ready, reception, execution, completion,
// and every edge case named in the PTP transitions.
#include <catch.hpp>

#include "tests/unit/tis/tis_fixture.hpp"
#include "vtpm/protocol/tpm_header.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::tis;

namespace {
void check_read_zero(TisFixture& t) { CHECK((t.sts() & sts::kReadZero) == 0); }
}  // namespace

TEST_CASE("a whole command: Expect, burstCount, tpmGo, dataAvail", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.ready();
  CHECK(t.dev.state() == TisState::Ready);
  CHECK((t.sts() & sts::kCommandReady) != 0);
  CHECK((t.sts() & sts::kExpect) == 0);
  const auto cmd = get_random_cmd();
  // First byte: Reception, Expect set.
  t.fifo_write(0, {cmd[0]});
  CHECK(t.dev.state() == TisState::Reception);
  CHECK((t.sts() & sts::kExpect) != 0);
  CHECK((t.sts() & sts::kCommandReady) == 0);
  CHECK(t.burst() == kTpmBufferSize - 1);  // size not known yet
  t.fifo_write(0, {cmd[1], cmd[2], cmd[3], cmd[4], cmd[5]});
  CHECK(t.burst() == cmd.size() - 6);  // size known from the header
  for (size_t i = 6; i + 1 < cmd.size(); ++i) {
    t.fifo_write(0, {cmd[i]});
    CHECK((t.sts() & sts::kExpect) != 0);
    check_read_zero(t);
  }
  t.fifo_write(0, {cmd.back()});
  CHECK((t.sts() & sts::kExpect) == 0);  // last byte clears Expect
  CHECK((t.sts() & sts::kStsValid) != 0);
  CHECK(t.burst() == 0);
  CHECK(t.backend.submissions.empty());
  t.go();
  CHECK(t.dev.state() == TisState::Execution);
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == cmd);
  CHECK(t.backend.submissions[0].locality == 0);
  // Executing: no dataAvail, no commandReady, no burst.
  const uint32_t s = t.sts();
  CHECK((s & (sts::kDataAvail | sts::kCommandReady | sts::kExpect)) == 0);
  CHECK(((s >> 8) & 0xFFFF) == 0);
  CHECK(t.fifo_read() == 0xFF);  // reads with no data
  const auto rsp = make_response(0, {1, 2, 3, 4, 5, 6, 7, 8});
  t.backend.finish(0, rsp);
  CHECK(t.dev.state() == TisState::Completion);
  CHECK((t.sts() & sts::kDataAvail) != 0);
  CHECK(t.burst() == rsp.size());
  CHECK(t.fifo_read_n(10) == std::vector<uint8_t>(rsp.begin(), rsp.begin() + 10));  // header
  CHECK(t.burst() == rsp.size() - 10);
  CHECK(t.fifo_read_n(rsp.size() - 10) == std::vector<uint8_t>(rsp.begin() + 10, rsp.end()));
  CHECK((t.sts() & sts::kDataAvail) == 0);  // all read
  CHECK(t.fifo_read() == 0xFF);
  check_read_zero(t);
  t.ready();
  CHECK(t.dev.state() == TisState::Ready);
}

TEST_CASE("responseRetry rewinds the response", "[tis][state]") {
  TisFixture t;
  t.submit(get_random_cmd());
  const auto rsp = make_response(0, {0xAA, 0xBB});
  t.backend.finish(0, rsp);
  CHECK(t.fifo_read_n(5) == std::vector<uint8_t>(rsp.begin(), rsp.begin() + 5));
  t.write_sts(0, sts::kResponseRetry);
  CHECK(t.fifo_read_n(rsp.size()) == rsp);
  CHECK((t.sts() & sts::kResponseRetry) == 0);  // write-only
}

TEST_CASE("tpmGo is ignored until the whole command is in", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.go();  // Idle
  t.ready();
  t.go();  // Ready, nothing received
  CHECK(t.dev.state() == TisState::Ready);
  const auto cmd = get_random_cmd();
  t.fifo_write(0, std::vector<uint8_t>(cmd.begin(), cmd.end() - 1));
  t.go();  // Expect still set
  CHECK(t.dev.state() == TisState::Reception);
  CHECK(t.backend.submissions.empty());
  t.fifo_write(0, {cmd.back()});
  t.go();
  CHECK(t.dev.state() == TisState::Execution);
  CHECK(t.backend.submissions.size() == 1);
}

TEST_CASE("FIFO writes in the wrong state are dropped", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.fifo_write(0, {0x80, 0x01});  // Idle: no commandReady yet
  CHECK(t.dev.state() == TisState::Idle);
  CHECK(t.dev.command_received() == 0);
  t.submit(get_random_cmd());
  t.fifo_write(0, {1, 2, 3});  // Execution
  CHECK(t.backend.submissions[0].command == get_random_cmd());
  t.backend.finish(0, make_response(0));
  t.fifo_write(0, {4});  // Completion
  CHECK(t.dev.state() == TisState::Completion);
  CHECK(t.dev.dropped_fifo_bytes() == 6);
}

TEST_CASE("bytes beyond the header's size are discarded", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.ready();
  auto cmd = get_random_cmd();
  t.fifo_write(0, cmd);
  t.fifo_write(0, {0xDE, 0xAD});
  CHECK(t.dev.command_received() == cmd.size());
  CHECK((t.sts() & sts::kExpect) == 0);
  t.go();
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == cmd);
}

TEST_CASE("impossible command sizes are answered with TPM_RC_COMMAND_SIZE", "[tis][state]") {
  for (uint32_t size : {0u, 9u, 4097u, 0xFFFFFFFFu}) {
    CAPTURE(size);
    TisFixture t;
    t.request(0);
    t.ready();
    t.fifo_write(0, {0x80, 0x01, uint8_t(size >> 24), uint8_t(size >> 16), uint8_t(size >> 8), uint8_t(size)});
    CHECK((t.sts() & sts::kExpect) == 0);  // nothing more is expected
    t.fifo_write(0, {0, 0, 0, 0});         // dropped
    t.go();
    CHECK(t.backend.submissions.empty());
    REQUIRE(t.dev.state() == TisState::Completion);
    const auto rsp = t.fifo_read_n(kTpmHeaderSize);
    TpmHeader h{};
    REQUIRE(parse_header(rsp.data(), rsp.size(), h));
    CHECK(h.size == kTpmHeaderSize);
    CHECK(h.code == kTpmRcCommandSize);
    CHECK((t.sts() & sts::kDataAvail) == 0);
  }
}

TEST_CASE("a command filling the whole buffer is accepted", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.ready();
  std::vector<uint8_t> cmd(kTpmBufferSize, 0x5A);
  store_be16(cmd.data(), kTpmStNoSessions);
  store_be32(cmd.data() + 2, static_cast<uint32_t>(kTpmBufferSize));
  // 4-byte FIFO writes, as a driver using ioread32 would do.
  for (size_t i = 0; i < cmd.size(); i += 4) {
    const uint32_t v = cmd[i] | (cmd[i + 1] << 8) | (cmd[i + 2] << 16) | (uint32_t(cmd[i + 3]) << 24);
    t.dev.mmio_write(kDataFifo.offset, 4, v);
  }
  CHECK(t.dev.command_received() == kTpmBufferSize);
  CHECK((t.sts() & sts::kExpect) == 0);
  t.go();
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == cmd);
}

TEST_CASE("2- and 4-byte FIFO accesses and XDATA_FIFO", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.ready();
  const auto cmd = get_random_cmd();  // 12 bytes
  t.dev.mmio_write(kDataFifo.offset, 4, 0x00000180);              // 80 01 00 00
  t.dev.mmio_write(kXDataFifo.offset + 2, 2, 0x0c00);             // 00 0c
  t.dev.mmio_write(kDataFifo.offset + 1, 2, 0x0000);              // 00 00
  t.dev.mmio_write(kXDataFifo.offset, 4, 0x08007b01);             // 01 7b 00 08
  t.go();
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == cmd);
  const auto rsp = make_response(0, {0x11, 0x22});
  t.backend.finish(0, rsp);
  CHECK(t.dev.mmio_read(kDataFifo.offset, 4) == 0x00000180u);
  CHECK(t.dev.mmio_read(kXDataFifo.offset, 4) == 0x00000c00u);  // 00 0c 00 00
  CHECK(t.dev.mmio_read(kDataFifo.offset + 2, 2) == 0x0000u);
  CHECK(t.dev.mmio_read(kDataFifo.offset, 2) == 0x2211u);
  CHECK(t.dev.mmio_read(kDataFifo.offset, 4) == 0xFFFFFFFFu);  // no data left
}

TEST_CASE("commandReady aborts reception", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.ready();
  t.fifo_write(0, {0x80, 0x01, 0, 0, 0});
  t.ready();
  CHECK(t.dev.state() == TisState::Ready);
  CHECK(t.dev.command_received() == 0);
  t.fifo_write(0, get_random_cmd());
  t.go();
  REQUIRE(t.backend.submissions.size() == 1);
  CHECK(t.backend.submissions[0].command == get_random_cmd());
}

TEST_CASE("commandReady during execution aborts; the next command waits for the engine",
          "[tis][state]") {
  TisFixture t;
  t.submit(get_random_cmd());
  REQUIRE(t.backend.submissions.size() == 1);
  t.ready();
  CHECK(t.dev.state() == TisState::Ready);
  REQUIRE(t.backend.cancels.size() == 1);
  CHECK(t.dev.engine_busy());
  // A new command while the aborted one still runs in the engine.
  auto cmd2 = get_random_cmd();
  cmd2.back() = 0x10;
  t.fifo_write(0, cmd2);
  t.go();
  CHECK(t.dev.state() == TisState::Execution);
  CHECK(t.backend.submissions.size() == 1);  // deferred
  t.backend.finish(0, make_response(kTpmRcCanceled));  // aborted one ends
  REQUIRE(t.backend.submissions.size() == 2);
  CHECK(t.backend.submissions[1].command == cmd2);
  CHECK(t.dev.state() == TisState::Execution);  // stale response not shown
  const auto rsp = make_response(0, {7});
  t.backend.finish(1, rsp);
  CHECK(t.fifo_read_n(rsp.size()) == rsp);
}

TEST_CASE("commandCancel asks the engine; the command still completes", "[tis][state]") {
  TisFixture t;
  t.request(0);
  t.write_sts(0, sts::kCommandCancel);  // Idle: nothing to cancel
  CHECK(t.backend.cancels.empty());
  t.ready();
  t.fifo_write(0, get_random_cmd());
  t.go();
  t.dev.mmio_write(kSts.offset + 3, 1, sts::kCommandCancel >> 24);
  REQUIRE(t.backend.cancels.size() == 1);
  CHECK(t.dev.state() == TisState::Execution);
  t.backend.finish(0, make_response(kTpmRcCanceled));
  CHECK(t.dev.state() == TisState::Completion);
  const auto rsp = t.fifo_read_n(10);
  CHECK(load_be32(rsp.data() + 6) == kTpmRcCanceled);
}

TEST_CASE("malformed engine completions become TPM_RC_FAILURE", "[tis][state]") {
  auto run = [](const std::vector<uint8_t>& bytes, size_t len) {
    TisFixture t;
    t.submit(get_random_cmd());
    t.backend.finish(0, bytes, len);
    const auto rsp = t.fifo_read_n(kTpmHeaderSize);
    CHECK(load_be32(rsp.data() + 6) == kTpmRcFailure);
    CHECK(t.fifo_read() == 0xFF);
  };
  run(make_response(0, {1, 2}), 5);                      // shorter than a header
  run(make_response(0, {1, 2}), 11);                     // size field disagrees
  run(make_response(0, {1, 2}), kTpmBufferSize + 1);     // longer than the buffer
}

TEST_CASE("completions with unknown ids are ignored", "[tis][state]") {
  TisFixture t;
  t.submit(get_random_cmd());
  t.dev.complete(t.backend.submissions[0].id + 100, 10);
  CHECK(t.dev.state() == TisState::Execution);
  t.backend.finish(0, make_response(0));
  t.dev.complete(t.backend.submissions[0].id, 10);  // duplicate
  CHECK(t.dev.state() == TisState::Completion);
  CHECK(t.dev.response_read() == 0);
}

TEST_CASE("reset returns to power-on state", "[tis][state]") {
  TisFixture t;
  t.submit(get_random_cmd());
  t.dev.mmio_write(kIntEnable.offset, 4, intr::kGlobalEnable | intr::kDataAvail);
  t.dev.reset();
  CHECK(t.dev.state() == TisState::Idle);
  CHECK(t.dev.active_locality() == kNoLocality);
  CHECK(t.dev.mmio_read(kIntEnable.offset, 4) == 0);
  CHECK(t.backend.cancels.size() == 1);
  t.backend.finish(0, make_response(0));  // late completion after reset: dropped
  CHECK(t.dev.state() == TisState::Idle);
}

TEST_CASE("an impossible size waits for an aborted command before answering", "[tis][state]") {
  TisFixture t;
  t.submit(get_random_cmd());
  t.ready();  // abort: the engine still holds the command and the response buffer
  t.fifo_write(0, {0x80, 0x01, 0, 0, 0, 0x05});  // size 5
  t.go();
  CHECK(t.dev.state() == TisState::Execution);  // nothing written to the response buffer yet
  t.backend.finish(0, make_response(0, {1, 2, 3}));  // the aborted command's late response
  REQUIRE(t.dev.state() == TisState::Completion);
  const auto rsp = t.fifo_read_n(kTpmHeaderSize);
  CHECK(load_be32(rsp.data() + 6) == kTpmRcCommandSize);
  CHECK(t.backend.submissions.size() == 1);
}

namespace {
// An engine that answers a cancel at once, from inside cancel().
struct EagerCancelBackend final : TpmBackend {
  struct Held {
    SubmissionId id;
    uint8_t* rsp;
    TpmCompletion* done;
  };
  std::vector<Held> held;
  int submits = 0;
  void submit(SubmissionId id, uint8_t, const uint8_t*, size_t, uint8_t* rsp, size_t, TpmCompletion& done) override {
    ++submits;
    held.push_back({id, rsp, &done});
  }
  void cancel(SubmissionId id) override {
    for (size_t i = 0; i < held.size(); ++i) {
      if (held[i].id != id) continue;
      const Held h = held[i];
      held.erase(held.begin() + static_cast<long>(i));
      h.done->complete(h.id, write_error_response(h.rsp, kTpmBufferSize, kTpmRcCanceled));
      return;
    }
  }
};
}  // namespace

TEST_CASE("an engine completing inside cancel() leaves a consistent state", "[tis][state]") {
  EagerCancelBackend be;
  TisDevice dev(be, nullptr);
  auto w8 = [&](uint64_t off, uint8_t v) { dev.mmio_write(off, 1, v); };
  w8(kAccess.offset, access::kRequestUse);
  w8(kSts.offset, sts::kCommandReady);
  for (uint8_t b : get_random_cmd()) w8(kDataFifo.offset, b);
  w8(kSts.offset, sts::kTpmGo);
  REQUIRE(dev.state() == TisState::Execution);
  w8(kSts.offset, sts::kCommandReady);  // abort; the engine answers at once
  CHECK(dev.state() == TisState::Ready);
  CHECK_FALSE(dev.engine_busy());
  for (uint8_t b : get_random_cmd()) w8(kDataFifo.offset, b);
  w8(kSts.offset, sts::kTpmGo);
  CHECK(be.submits == 2);  // not deferred: nothing is in the engine
  // commandCancel: the canceled response is what the guest reads.
  dev.mmio_write(kSts.offset + 3, 1, sts::kCommandCancel >> 24);
  REQUIRE(dev.state() == TisState::Completion);
  uint8_t hdr[10];
  for (uint8_t& b : hdr) b = static_cast<uint8_t>(dev.mmio_read(kDataFifo.offset, 1));
  CHECK(load_be32(hdr + 6) == kTpmRcCanceled);
}
