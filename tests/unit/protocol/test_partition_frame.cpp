#include <catch.hpp>

#include <vector>

#include "vtpm/protocol/partition_frame.hpp"

using namespace mamori::vtpm::protocol;

namespace {

std::vector<uint8_t> frame(FrameType t, uint8_t arg, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(kFrameHeaderSize);
  encode_frame_header({t, arg, static_cast<uint32_t>(payload.size())}, out.data(), out.size());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

const std::vector<uint8_t> kGetRandom = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8};

}  // namespace

TEST_CASE("frame: encode/decode round trip, little-endian layout") {
  uint8_t buf[kFrameHeaderSize];
  REQUIRE(encode_frame_header({FrameType::tpm_command, 3, 0x01020304}, buf, sizeof(buf)) == kFrameHeaderSize);
  CHECK(buf[0] == 'M');
  CHECK(buf[3] == 'P');
  CHECK(buf[4] == kFrameVersion);
  CHECK(buf[5] == 0x01);
  CHECK(buf[6] == 3);
  CHECK(buf[7] == 0);
  CHECK(buf[8] == 0x04);
  CHECK(buf[11] == 0x01);
  FrameHeader h{};
  REQUIRE(decode_frame_header(buf, sizeof(buf), h) == FrameError::too_large);
  encode_frame_header({FrameType::tpm_command, 3, 12}, buf, sizeof(buf));
  REQUIRE(decode_frame_header(buf, sizeof(buf), h) == FrameError::none);
  CHECK(h.type == FrameType::tpm_command);
  CHECK(h.arg == 3);
  CHECK(h.length == 12);
  CHECK(encode_frame_header(h, buf, kFrameHeaderSize - 1) == 0);
}

TEST_CASE("frame: header-level errors") {
  auto f = frame(FrameType::init, 0, {});
  FrameHeader h{};
  CHECK(decode_frame_header(f.data(), f.size() - 1, h) == FrameError::truncated);
  auto bad = f; bad[0] = 'X';
  CHECK(decode_frame_header(bad.data(), bad.size(), h) == FrameError::bad_magic);
  bad = f; bad[4] = 2;
  CHECK(decode_frame_header(bad.data(), bad.size(), h) == FrameError::bad_version);
  bad = f; bad[7] = 1;
  CHECK(decode_frame_header(bad.data(), bad.size(), h) == FrameError::bad_reserved);
  bad = f; bad[11] = 0x7F;
  CHECK(decode_frame_header(bad.data(), bad.size(), h) == FrameError::too_large);
}

TEST_CASE("frame: request rules per type") {
  CHECK(check_request_header({FrameType::tpm_command, 0, 12}) == RequestError::none);
  CHECK(check_request_header({FrameType::tpm_command, 4, 12}) == RequestError::none);
  CHECK(check_request_header({FrameType::tpm_command, 5, 12}) == RequestError::bad_arg);
  CHECK(check_request_header({FrameType::tpm_command, 0, 9}) == RequestError::bad_length);
  CHECK(check_request_header({FrameType::tpm_command, 0, 0}) == RequestError::bad_length);
  CHECK(check_request_header({FrameType::tpm_command, 0, kMaxTpmCommand + 1}) == RequestError::bad_length);
  CHECK(check_request_header({FrameType::init, kInitFlagDeleteVolatile, 0}) == RequestError::none);
  CHECK(check_request_header({FrameType::init, 2, 0}) == RequestError::bad_arg);
  CHECK(check_request_header({FrameType::init, 0, 1}) == RequestError::bad_length);
  CHECK(check_request_header({FrameType::get_state, 0, 0}) == RequestError::bad_arg);
  CHECK(check_request_header({FrameType::get_state, 3, 0}) == RequestError::none);
  CHECK(check_request_header({FrameType::get_state, 4, 0}) == RequestError::bad_arg);
  CHECK(check_request_header({FrameType::set_state, 1, 1000}) == RequestError::none);
  CHECK(check_request_header({FrameType::hash_data, 0, 0}) == RequestError::bad_length);
  CHECK(check_request_header({FrameType::stop, 1, 0}) == RequestError::bad_arg);
  CHECK(check_request_header({FrameType::tpm_response, 0, 12}) == RequestError::unknown_type);
  CHECK(check_request_header({static_cast<FrameType>(0x7F), 0, 0}) == RequestError::unknown_type);
}

TEST_CASE("frame: a TPM command whose size disagrees with the frame is refused") {
  std::vector<uint8_t> cmd = kGetRandom;
  CHECK(check_request_payload({FrameType::tpm_command, 0, 12}, cmd.data()) == RequestError::none);
  cmd[5] = 14;  // claims 14 bytes inside a 12-byte frame
  CHECK(check_request_payload({FrameType::tpm_command, 0, 12}, cmd.data()) == RequestError::size_mismatch);
  cmd[5] = 11;
  CHECK(check_request_payload({FrameType::tpm_command, 0, 12}, cmd.data()) == RequestError::size_mismatch);
  CHECK(check_request_payload({FrameType::tpm_command, 0, 12}, nullptr) == RequestError::bad_length);
  CHECK(check_request_payload({FrameType::stop, 0, 0}, nullptr) == RequestError::none);
}

TEST_CASE("frame: response rules") {
  CHECK(check_response_header({FrameType::result, 2, 4}) == RequestError::none);
  CHECK(check_response_header({FrameType::result, 2, 5}) == RequestError::bad_length);
  CHECK(check_response_header({FrameType::state_changed, 1, 900}) == RequestError::none);
  CHECK(check_response_header({FrameType::state_changed, 9, 900}) == RequestError::bad_arg);
  CHECK(check_response_header({FrameType::tpm_response, 0, 10}) == RequestError::none);
  CHECK(check_response_header({FrameType::tpm_command, 0, 10}) == RequestError::unknown_type);
}

TEST_CASE("frame: stream walk counts valid frames and stops at broken framing") {
  std::vector<uint8_t> s = frame(FrameType::tpm_command, 0, kGetRandom);
  auto add = [&](const std::vector<uint8_t>& f) { s.insert(s.end(), f.begin(), f.end()); };
  add(frame(FrameType::init, 0, {}));
  add(frame(FrameType::get_state, 9, {}));  // delimited but refused
  add(frame(FrameType::hash_data, 0, {1, 2, 3}));
  FrameError why = FrameError::none;
  CHECK(count_valid_requests(s.data(), s.size(), why) == 3);
  CHECK(why == FrameError::none);
  s.push_back('M');
  CHECK(count_valid_requests(s.data(), s.size(), why) == 3);
  CHECK(why == FrameError::truncated);
  s.back() = 'Q';
  s.insert(s.end(), 11, 0);
  CHECK(count_valid_requests(s.data(), s.size(), why) == 3);
  CHECK(why == FrameError::bad_magic);
  // A frame announcing more payload than the stream holds is truncated.
  auto cut = frame(FrameType::hash_data, 0, {1, 2, 3, 4});
  cut.pop_back();
  CHECK(count_valid_requests(cut.data(), cut.size(), why) == 0);
  CHECK(why == FrameError::truncated);
}
