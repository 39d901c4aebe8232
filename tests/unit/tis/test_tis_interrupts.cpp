// TPM_INT_ENABLE_x / TPM_INT_STATUS_x / TPM_INT_VECTOR_x and the line.
#include <catch.hpp>

#include "tests/unit/tis/tis_fixture.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::tis;

namespace {
uint32_t int_status(TisFixture& t, uint8_t l = 0) {
  return static_cast<uint32_t>(t.dev.mmio_read(TisFixture::at(l, kIntStatus), 4));
}
void enable(TisFixture& t, uint32_t v, uint8_t l = 0) { t.dev.mmio_write(TisFixture::at(l, kIntEnable), 4, v); }
}  // namespace

TEST_CASE("dataAvail interrupt: latched, raised, cleared by writing 1", "[tis][irq]") {
  TisFixture t;
  t.request(0);
  t.dev.mmio_write(kIntVector.offset, 1, 7);
  enable(t, intr::kGlobalEnable | intr::kDataAvail);
  t.ready();
  t.fifo_write(0, get_random_cmd());
  t.go();
  CHECK_FALSE(t.irq.level);
  t.backend.finish(0, make_response(0));
  CHECK(int_status(t) == intr::kDataAvail);
  CHECK(t.irq.level);
  CHECK(t.irq.last_vector == 7);
  CHECK(t.dev.irq_asserted());
  t.dev.mmio_write(kIntStatus.offset, 4, intr::kStsValid);  // other bit: no effect
  CHECK(t.irq.level);
  t.dev.mmio_write(kIntStatus.offset, 4, intr::kDataAvail);
  CHECK(int_status(t) == 0);
  CHECK_FALSE(t.irq.level);
}

TEST_CASE("disabled events are not latched; global enable gates the line", "[tis][irq]") {
  TisFixture t;
  t.request(0);
  enable(t, intr::kDataAvail);  // no global enable
  t.ready();
  t.fifo_write(0, get_random_cmd());
  t.go();
  t.backend.finish(0, make_response(0));
  CHECK(int_status(t) == intr::kDataAvail);
  CHECK_FALSE(t.irq.level);
  enable(t, intr::kDataAvail | intr::kGlobalEnable);
  CHECK(t.irq.level);  // pending status asserts once enabled
  enable(t, 0);
  CHECK_FALSE(t.irq.level);
}

TEST_CASE("commandReady, stsValid and localityChange events", "[tis][irq]") {
  TisFixture t;
  t.request(0);
  enable(t, intr::kGlobalEnable | intr::kCommandReady | intr::kStsValid | intr::kLocalityChange);
  t.ready();
  CHECK(int_status(t) == intr::kCommandReady);
  t.dev.mmio_write(kIntStatus.offset, 4, 0xFFFFFFFFu);
  t.fifo_write(0, get_random_cmd());
  CHECK(int_status(t) == intr::kStsValid);  // Expect fell
  t.dev.mmio_write(kIntStatus.offset, 4, intr::kStsValid);
  // Locality 1 gets the TPM after 0 relinquishes: its status latches it.
  enable(t, intr::kGlobalEnable | intr::kLocalityChange, 0);
  t.request(1);
  t.write_access(0, access::kActiveLocality);
  CHECK(t.dev.active_locality() == 1);
  CHECK(int_status(t, 1) == 0);  // locality 1 had not enabled it
  enable(t, intr::kGlobalEnable | intr::kLocalityChange, 1);
  t.write_access(1, access::kActiveLocality);
  t.request(1);
  CHECK(int_status(t, 1) == intr::kLocalityChange);
  CHECK(t.irq.level);
}

TEST_CASE("typePolarity is kept; every status bit clears on its own", "[tis][irq]") {
  TisFixture t;
  t.request(0);
  const uint32_t low_level = 1u << intr::kTypePolarityShift;  // 01: low level
  enable(t, intr::kGlobalEnable | intr::kEventMask | low_level);
  CHECK((t.dev.mmio_read(kIntEnable.offset, 4) & intr::kTypePolarityMask) == low_level);
  // Latch all four events.
  t.ready();                       // commandReady
  t.fifo_write(0, get_random_cmd());  // stsValid (Expect fell)
  t.go();
  t.backend.finish(0, make_response(0));  // dataAvail
  t.request(1);
  t.write_access(0, access::kActiveLocality);  // locality 1 active
  t.write_access(1, access::kActiveLocality);
  t.request(0);  // locality 0 active again: localityChange
  CHECK(int_status(t) == intr::kEventMask);
  CHECK(t.irq.level);
  // A locality that is not active cannot clear them.
  t.request(2);
  t.dev.mmio_write(TisFixture::at(2, kIntStatus), 4, 0xFFFFFFFFu);
  CHECK(int_status(t) == intr::kEventMask);
  for (uint32_t bit : {intr::kDataAvail, intr::kStsValid, intr::kLocalityChange, intr::kCommandReady}) {
    CAPTURE(bit);
    const uint32_t before = int_status(t);
    t.dev.mmio_write(kIntStatus.offset, 4, bit);
    CHECK(int_status(t) == (before & ~bit));
  }
  CHECK_FALSE(t.irq.level);
}
