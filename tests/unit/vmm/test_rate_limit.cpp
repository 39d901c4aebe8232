#include <catch.hpp>
#include <stdint.h>

#include "vmm/lib/rate_limit.hpp"

using mamori::lib::TokenBucket;

TEST_CASE("rate limit: a burst, then one per period, the rest counted") {
  TokenBucket b;
  for (int i = 0; i < 5; ++i) CHECK(b.take(1000, 100, 5));
  CHECK_FALSE(b.take(1000, 100, 5));
  CHECK_FALSE(b.take(1099, 100, 5));
  CHECK(b.take_suppressed() == 2);
  CHECK(b.take_suppressed() == 0);
  CHECK(b.take(1100, 100, 5));        // one period later: one token
  CHECK_FALSE(b.take(1150, 100, 5));
  CHECK(b.take(1200, 100, 5));
  CHECK(b.take_suppressed() == 1);
}

TEST_CASE("rate limit: a long quiet time refills to the burst, no more") {
  TokenBucket b;
  for (int i = 0; i < 3; ++i) CHECK(b.take(0, 10, 3));
  CHECK_FALSE(b.take(0, 10, 3));
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += b.take(UINT64_MAX / 2, 10, 3);  // no overflow on a huge gap
  CHECK(passed == 3);
  CHECK(b.take_suppressed() == 8);
}

TEST_CASE("rate limit: a storm of a million events lets through burst + elapsed/period") {
  TokenBucket b;
  uint64_t passed = 0;
  for (uint64_t t = 0; t < 1000000; ++t) passed += b.take(t, 1000, 20);
  CHECK(passed == 20 + 999);
  CHECK(b.take_suppressed() == 1000000 - passed);
}
