#include <catch.hpp>

#include "vtpm/common/mmio.hpp"
#include "vtpm/common/tpm_header.hpp"

using namespace mamori::vtpm;

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

TEST_CASE("MMIO size helpers", "[mmio]") {
  CHECK(is_mmio_size(1));
  CHECK(is_mmio_size(2));
  CHECK(is_mmio_size(4));
  CHECK(is_mmio_size(8));
  CHECK_FALSE(is_mmio_size(0));
  CHECK_FALSE(is_mmio_size(3));
  CHECK_FALSE(is_mmio_size(16));
  CHECK(size_mask(1) == 0xFF);
  CHECK(size_mask(2) == 0xFFFF);
  CHECK(size_mask(4) == 0xFFFFFFFFu);
  CHECK(size_mask(8) == ~uint64_t{0});
}
