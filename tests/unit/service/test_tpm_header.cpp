#include <catch.hpp>

#include "vtpm/service/wire/tpm_header.hpp"

using namespace mamori::vtpm::wire;

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
  REQUIRE(make_tpm_error_response(out, sizeof(out), kTpmRcCommandSize) == 10);
  const uint8_t want[] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x42};
  for (size_t i = 0; i < sizeof(want); ++i) CHECK(out[i] == want[i]);
  CHECK(make_tpm_error_response(out, 9, kTpmRcFailure) == 0);
}
