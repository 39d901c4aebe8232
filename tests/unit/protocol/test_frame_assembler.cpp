#include <catch.hpp>

#include <vector>

#include "vtpm/protocol/frame_assembler.hpp"

using namespace mamori::vtpm::protocol;

namespace {

std::vector<uint8_t> frame(FrameType t, uint8_t arg, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(kFrameHeaderSize);
  encode_frame_header({t, arg, static_cast<uint32_t>(payload.size())}, out.data(), out.size());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// Feeds `stream` in pieces of `piece` bytes; collects (type, payload) of every frame.
std::vector<std::pair<FrameType, std::vector<uint8_t>>> assemble(const std::vector<uint8_t>& stream, size_t piece,
                                                                 FrameAssembler& a, bool& broken) {
  std::vector<std::pair<FrameType, std::vector<uint8_t>>> out;
  broken = false;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = std::min(piece, stream.size() - pos);
    size_t off = 0;
    while (off < n) {
      size_t used = 0;
      const auto st = a.feed(stream.data() + pos + off, n - off, used);
      off += used;
      if (st == FrameAssembler::Status::error) { broken = true; return out; }
      if (st == FrameAssembler::Status::frame_ready) {
        out.emplace_back(a.header().type,
                         std::vector<uint8_t>(a.payload(), a.payload() + a.header().length));
        a.next();
      }
    }
    pos += n;
  }
  return out;
}

}  // namespace

TEST_CASE("assembler: any chunking yields the same frames") {
  std::vector<uint8_t> s = frame(FrameType::state_changed, 1, std::vector<uint8_t>(300, 0x11));
  auto add = [&](const std::vector<uint8_t>& f) { s.insert(s.end(), f.begin(), f.end()); };
  add(frame(FrameType::result, 2, {0, 0, 0, 0}));
  add(frame(FrameType::state, 2, {}));
  add(frame(FrameType::tpm_response, 0, std::vector<uint8_t>(10, 0x22)));
  for (size_t piece : {1u, 2u, 5u, 11u, 12u, 13u, 64u, 1000u}) {
    std::vector<uint8_t> buf(kFrameHeaderSize + 512);
    FrameAssembler a(buf.data(), buf.size());
    bool broken = true;
    const auto frames = assemble(s, piece, a, broken);
    INFO("piece " << piece);
    CHECK_FALSE(broken);
    REQUIRE(frames.size() == 4);
    CHECK(frames[0].first == FrameType::state_changed);
    CHECK(frames[0].second == std::vector<uint8_t>(300, 0x11));
    CHECK(frames[1].first == FrameType::result);
    CHECK(frames[2].first == FrameType::state);
    CHECK(frames[2].second.empty());
    CHECK(frames[3].second == std::vector<uint8_t>(10, 0x22));
  }
}

TEST_CASE("assembler: a payload beyond the buffer and a bad header are sticky errors") {
  std::vector<uint8_t> buf(kFrameHeaderSize + 16);
  FrameAssembler a(buf.data(), buf.size());
  const auto big = frame(FrameType::state, 1, std::vector<uint8_t>(17, 0));
  size_t used = 0;
  CHECK(a.feed(big.data(), big.size(), used) == FrameAssembler::Status::error);
  CHECK(a.error() == FrameError::too_large);
  CHECK(used == kFrameHeaderSize);
  CHECK(a.feed(big.data(), big.size(), used) == FrameAssembler::Status::error);
  CHECK(used == 0);

  FrameAssembler b(buf.data(), buf.size());
  auto bad = frame(FrameType::result, 2, {0, 0, 0, 0});
  bad[1] = 'X';
  CHECK(b.feed(bad.data(), bad.size(), used) == FrameAssembler::Status::error);
  CHECK(b.error() == FrameError::bad_magic);

  FrameAssembler tiny(buf.data(), kFrameHeaderSize - 1);
  CHECK(tiny.feed(bad.data(), bad.size(), used) == FrameAssembler::Status::error);
}

TEST_CASE("assembler: a ready frame holds until next()") {
  std::vector<uint8_t> buf(64);
  FrameAssembler a(buf.data(), buf.size());
  const auto f = frame(FrameType::result, 1, {7, 0, 0, 0});
  std::vector<uint8_t> two = f;
  two.insert(two.end(), f.begin(), f.end());
  size_t used = 0;
  REQUIRE(a.feed(two.data(), two.size(), used) == FrameAssembler::Status::frame_ready);
  CHECK(used == f.size());
  size_t again = 99;
  CHECK(a.feed(two.data() + used, two.size() - used, again) == FrameAssembler::Status::frame_ready);
  CHECK(again == 0);
  CHECK(a.payload()[0] == 7);
  a.next();
  CHECK(a.feed(two.data() + used, two.size() - used, again) == FrameAssembler::Status::frame_ready);
  CHECK(again == f.size());
}
