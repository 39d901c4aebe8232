#include <catch.hpp>

#include "vtpm/common/locality.hpp"

using namespace mamori::vtpm;

TEST_CASE("first request is granted at once", "[locality]") {
  LocalityArbiter a;
  CHECK(a.active() == kNoLocality);
  const auto ch = a.request(2);
  CHECK(ch.changed);
  CHECK(ch.previous == kNoLocality);
  CHECK(ch.current == 2);
  CHECK(a.is_active(2));
  CHECK_FALSE(a.requesting(2));
  CHECK_FALSE(a.request(2).changed);  // already active: nothing happens
}

TEST_CASE("requests wait; relinquish grants the highest pending", "[locality]") {
  LocalityArbiter a;
  a.request(0);
  CHECK_FALSE(a.request(1).changed);
  CHECK_FALSE(a.request(3).changed);
  CHECK(a.requesting(1));
  CHECK(a.requesting(3));
  CHECK(a.other_requesting(0));
  CHECK(a.other_requesting(1));  // 3 is also waiting
  const auto ch = a.relinquish(0);
  CHECK(ch.changed);
  CHECK(ch.previous == 0);
  CHECK(ch.current == 3);
  CHECK(a.requesting(1));
  CHECK_FALSE(a.requesting(3));
  CHECK(a.relinquish(3).current == 1);
  const auto last = a.relinquish(1);
  CHECK(last.changed);
  CHECK(last.current == kNoLocality);
  CHECK(a.active() == kNoLocality);
}

TEST_CASE("relinquish by a waiting locality withdraws its request", "[locality]") {
  LocalityArbiter a;
  a.request(0);
  a.request(2);
  CHECK_FALSE(a.relinquish(2).changed);
  CHECK_FALSE(a.requesting(2));
  CHECK(a.relinquish(0).current == kNoLocality);
}

TEST_CASE("seize only from a higher locality; the loser is marked", "[locality]") {
  LocalityArbiter a;
  a.request(2);
  CHECK_FALSE(a.seize(1).changed);
  CHECK_FALSE(a.seize(2).changed);
  CHECK(a.is_active(2));
  const auto ch = a.seize(4);
  CHECK(ch.changed);
  CHECK(ch.previous == 2);
  CHECK(ch.current == 4);
  CHECK(a.been_seized(2));
  CHECK_FALSE(a.been_seized(4));
  a.clear_seized(2);
  CHECK_FALSE(a.been_seized(2));
}

TEST_CASE("seize with no active locality takes the TPM", "[locality]") {
  LocalityArbiter a;
  const auto ch = a.seize(0);
  CHECK(ch.changed);
  CHECK(a.is_active(0));
}

TEST_CASE("out-of-range localities are ignored", "[locality]") {
  LocalityArbiter a;
  CHECK_FALSE(a.request(5).changed);
  CHECK_FALSE(a.seize(200).changed);
  CHECK_FALSE(a.relinquish(kNoLocality).changed);
  CHECK_FALSE(a.requesting(7));
  CHECK_FALSE(a.been_seized(9));
  CHECK(a.active() == kNoLocality);
}
