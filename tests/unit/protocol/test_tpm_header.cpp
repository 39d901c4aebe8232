#include <catch.hpp>

#include "vtpm/protocol/bytes.hpp"
#include "vtpm/protocol/tpm_header.hpp"

using namespace mamori::vtpm::protocol;

TEST_CASE("big-endian helpers round-trip", "[tpm_header]") {
  uint8_t b[4] = {};
  store_be32(b, 0x12345678u);
  CHECK(b[0] == 0x12);
  CHECK(b[3] == 0x78);
  CHECK(load_be32(b) == 0x12345678u);
  store_be16(b, 0xA1B2);
  CHECK(b[0] == 0xA1);
  CHECK(load_be16(b) == 0xA1B2);
}

TEST_CASE("parse_header reads tag, size and code", "[tpm_header]") {
  // TPM2_GetRandom(32): 80 01 | 00 00 00 0c | 00 00 01 7b | 00 20
  const uint8_t cmd[] = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 0x20};
  TpmHeader h{};
  REQUIRE(parse_header(cmd, sizeof cmd, h));
  CHECK(h.tag == kTpmStNoSessions);
  CHECK(h.size == 12);
  CHECK(h.code == 0x17B);
  CHECK(header_size_field(cmd) == 12);
}

TEST_CASE("parse_header refuses short input and null", "[tpm_header]") {
  const uint8_t cmd[9] = {0x80, 0x01};
  TpmHeader h{};
  CHECK_FALSE(parse_header(cmd, sizeof cmd, h));
  CHECK_FALSE(parse_header(nullptr, 10, h));
}

TEST_CASE("write_error_response makes a 10-byte header-only response", "[tpm_header]") {
  uint8_t out[16] = {};
  REQUIRE(write_error_response(out, sizeof out, kTpmRcCanceled) == kTpmHeaderSize);
  TpmHeader h{};
  REQUIRE(parse_header(out, kTpmHeaderSize, h));
  CHECK(h.tag == kTpmStNoSessions);
  CHECK(h.size == kTpmHeaderSize);
  CHECK(h.code == kTpmRcCanceled);
  uint8_t small[9] = {};
  CHECK(write_error_response(small, sizeof small, kTpmRcFailure) == 0);
}

// Framing checks (the service's socket front-ends).
TEST_CASE("TPM header: a well-formed GetRandom header parses") {
  const uint8_t cmd[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8};
  TpmHeader h{};
  REQUIRE(parse_tpm_header(cmd, sizeof(cmd), 4096, h) == HeaderStatus::ok);
  CHECK(h.tag == 0x8001);
  CHECK(h.size == 12);
  CHECK(h.code == 0x17B);
}

TEST_CASE("TPM header: truncated, lying and oversized sizes are refused") {
  uint8_t cmd[10] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x44};
  TpmHeader h{};
  CHECK(parse_tpm_header(cmd, 9, 4096, h) == HeaderStatus::truncated);
  CHECK(parse_tpm_header(nullptr, 10, 4096, h) == HeaderStatus::truncated);
  cmd[5] = 9;
  CHECK(parse_tpm_header(cmd, 10, 4096, h) == HeaderStatus::size_below_header);
  cmd[5] = 0;
  CHECK(parse_tpm_header(cmd, 10, 4096, h) == HeaderStatus::size_below_header);
  // 4097 = 0x1001
  cmd[4] = 0x10; cmd[5] = 0x01;
  CHECK(parse_tpm_header(cmd, 10, 4096, h) == HeaderStatus::size_above_max);
  cmd[5] = 0x00;
  CHECK(parse_tpm_header(cmd, 10, 4096, h) == HeaderStatus::ok);
  cmd[2] = 0xFF;
  CHECK(parse_tpm_header(cmd, 10, 4096, h) == HeaderStatus::size_above_max);
}

TEST_CASE("TPM header: error responses carry the code big-endian") {
  uint8_t out[10] = {};
  REQUIRE(write_error_response(out, sizeof(out), kTpmRcCommandSize) == 10);
  const uint8_t want[] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x42};
  for (size_t i = 0; i < sizeof(want); ++i) CHECK(out[i] == want[i]);
  CHECK(write_error_response(out, 9, kTpmRcFailure) == 0);
}
