#include <catch.hpp>

#include "vtpm/common/mmio.hpp"

using namespace mamori::vtpm;

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
