// Register-by-register checks of the TIS model against the PTP FIFO
// interface tables (reset values, read-only bits, widths, localities).
#include <catch.hpp>

#include "tests/unit/tis/tis_fixture.hpp"

using namespace mamori::test;
using namespace mamori::vtpm;
using namespace mamori::vtpm::tis;

TEST_CASE("locality 4 belongs to the processor: it floats unless granted", "[tis][registers]") {
  TisFixture t;
  const uint64_t loc4 = 4 * kLocalityStride;
  CHECK(t.dev.mmio_read(loc4 + kAccess.offset, 1) == 0xFF);
  CHECK(t.dev.mmio_read(loc4 + kDidVid.offset, 4) == 0xFFFFFFFFu);
  t.dev.mmio_write(loc4 + kAccess.offset, 1, access::kRequestUse);
  CHECK(t.dev.active_locality() == kNoLocality);
  FakeBackend be;
  TisConfig cfg;
  cfg.locality_mask = 0x1F;
  TisDevice dev(be, nullptr, cfg);
  dev.mmio_write(loc4 + kAccess.offset, 1, access::kRequestUse);
  CHECK(dev.active_locality() == 4);
}

TEST_CASE("reset values of every guest locality", "[tis][registers]") {
  TisFixture t;
  for (uint8_t l = 0; l < 4; ++l) {
    CAPTURE(l);
    // tpmRegValidSts + tpmEstablishment (no H-CRTM event): 0x81.
    CHECK(t.access(l) == (access::kTpmRegValidSts | access::kTpmEstablishment));
    CHECK(t.dev.mmio_read(TisFixture::at(l, kIntEnable), 4) == 0);
    CHECK(t.dev.mmio_read(TisFixture::at(l, kIntVector), 1) == 0);
    CHECK(t.dev.mmio_read(TisFixture::at(l, kIntStatus), 4) == 0);
    // No locality active: STS and FIFO float (PTP: reads return FFh).
    CHECK(t.sts(l) == 0xFFFFFFFFu);
    CHECK(t.fifo_read(l) == 0xFF);
    CHECK(t.dev.mmio_read(TisFixture::at(l, kDidVid), 4) == 0x00011014u);
    CHECK(t.dev.mmio_read(TisFixture::at(l, kRid), 1) == 0x01);
  }
  CHECK(t.dev.state() == TisState::Idle);
  CHECK(t.dev.active_locality() == kNoLocality);
}

TEST_CASE("INTF_CAPABILITY advertises what the model implements", "[tis][registers]") {
  TisFixture t;
  const uint32_t caps = static_cast<uint32_t>(t.dev.mmio_read(TisFixture::at(0, kIntfCapability), 4));
  CHECK((caps & cap::kDataAvailIntSupport) != 0);
  CHECK((caps & cap::kStsValidIntSupport) != 0);
  CHECK((caps & cap::kLocalityChangeIntSupport) != 0);
  CHECK((caps & cap::kCommandReadyIntSupport) != 0);
  CHECK((caps & cap::kInterruptLevelHigh) != 0);
  CHECK((caps & cap::kInterruptLevelLow) != 0);
  CHECK((caps & (cap::kInterruptEdgeRising | cap::kInterruptEdgeFalling)) == 0);
  CHECK((caps & cap::kBurstCountStatic) == 0);         // burstCount is dynamic
  CHECK(((caps >> cap::kDataTransferShift) & 3) == 0);  // legacy
  CHECK(((caps >> cap::kInterfaceVersionShift) & 7) == 3);  // TPM 2.0 FIFO
  // Read-only: a write changes nothing.
  t.request(0);
  t.dev.mmio_write(TisFixture::at(0, kIntfCapability), 4, 0);
  CHECK(t.dev.mmio_read(TisFixture::at(0, kIntfCapability), 4) == caps);
}

TEST_CASE("INTERFACE_ID: FIFO, 5 localities, selector locked, RID", "[tis][registers]") {
  TisFixture t;
  const uint32_t id = static_cast<uint32_t>(t.dev.mmio_read(TisFixture::at(3, kInterfaceId), 4));
  CHECK((id & 0xF) == ifid::kTypeFifoPtp);
  CHECK(((id >> 4) & 0xF) == 0);
  CHECK((id & ifid::kCapLocality) != 0);
  CHECK((id & ifid::kCapFifo) != 0);
  CHECK((id & ifid::kCapCrb) == 0);
  CHECK(((id >> 17) & 3) == 0);  // InterfaceSelector: FIFO
  CHECK((id & ifid::kIntfSelLock) != 0);
  CHECK((id >> ifid::kRidShift) == 0x01);
  t.request(3);
  t.dev.mmio_write(TisFixture::at(3, kInterfaceId), 4, 1u << 17);  // try to select CRB
  CHECK(t.dev.mmio_read(TisFixture::at(3, kInterfaceId), 4) == id);
}

TEST_CASE("DID_VID and RID come from the configuration and are read-only", "[tis][registers]") {
  FakeBackend be;
  TisConfig cfg;
  cfg.did_vid = 0xBEEF1234u;
  cfg.rid = 0x42;
  TisDevice dev(be, nullptr, cfg);
  CHECK(dev.mmio_read(kDidVid.offset, 4) == 0xBEEF1234u);
  CHECK(dev.mmio_read(kDidVid.offset, 2) == 0x1234u);          // VID alone
  CHECK(dev.mmio_read(kDidVid.offset + 2, 2) == 0xBEEFu);      // DID alone
  CHECK(dev.mmio_read(kRid.offset, 1) == 0x42);
  dev.mmio_write(kDidVid.offset, 4, 0);
  CHECK(dev.mmio_read(kDidVid.offset, 4) == 0xBEEF1234u);
}

TEST_CASE("STS of the active locality: family, selfTestDone, read-zero bits", "[tis][registers]") {
  TisFixture t;
  t.request(0);
  const uint32_t s = t.sts();
  CHECK((s & sts::kStsValid) != 0);
  CHECK((s & sts::kSelfTestDone) != 0);
  CHECK(((s >> sts::kTpmFamilyShift) & 3) == 1);  // TPM 2.0
  CHECK((s & sts::kReadZero) == 0);               // Linux's "sts & 0x23" check
  CHECK((s & (sts::kCommandCancel | sts::kResetEstablishment)) == 0);
  CHECK((s & sts::kCommandReady) == 0);  // Idle
  CHECK(((s >> 8) & 0xFFFF) == 0);       // no burst in Idle
  // Byte lanes: byte 3 holds the family, bytes 1-2 the burst count.
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts, 3), 1) == (s >> 24));
}

TEST_CASE("burstCount readable by byte, word and dword", "[tis][registers]") {
  TisFixture t;
  t.request(0);
  t.ready();
  CHECK(t.burst() == kTpmBufferSize);
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts, 1), 2) == kTpmBufferSize);
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts, 1), 1) == (kTpmBufferSize & 0xFF));
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts, 2), 1) == (kTpmBufferSize >> 8));
}

TEST_CASE("bad sizes, crossing and out-of-window accesses are rejected", "[tis][registers]") {
  TisFixture t;
  t.request(0);
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts), 8) == ~uint64_t{0});   // 8 bytes cross STS
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts, 2), 4) == 0xFFFFFFFFu);  // crosses into 0x1C
  CHECK(t.dev.mmio_read(TisFixture::at(0, kSts), 3) == 0xFFFFFFu);       // size 3
  CHECK(t.dev.mmio_read(TisFixture::at(0, kAccess), 2) == 0xFFFFu);      // ACCESS is 1 byte
  CHECK(t.dev.mmio_read(kWindowSize, 1) == 0xFF);
  CHECK(t.dev.mmio_read(kWindowSize - 2, 4) == 0xFFFFFFFFu);
  CHECK(t.dev.mmio_read(~uint64_t{0}, 4) == 0xFFFFFFFFu);
  const uint64_t rejected = t.dev.stats().rejected;
  CHECK(rejected == 7);
  // Rejected writes change nothing.
  t.dev.mmio_write(TisFixture::at(0, kSts, 2), 4, sts::kCommandReady << 16);
  t.dev.mmio_write(TisFixture::at(0, kDataFifo, 2), 4, 0x01020304);  // crosses FIFO end
  t.dev.mmio_write(kWindowSize, 1, 0);
  CHECK(t.dev.stats().rejected == rejected + 3);
  CHECK(t.dev.state() == TisState::Idle);
  CHECK(t.dev.command_received() == 0);
}

TEST_CASE("reserved and vendor offsets read all-ones and ignore writes", "[tis][registers]") {
  TisFixture t;
  t.request(0);
  for (uint16_t off : {0x04, 0x1C, 0x20, 0x28, 0x34, 0x7C, 0x84, 0xE00, 0xF08, 0xF90, 0xFFC}) {
    CAPTURE(off);
    CHECK(t.dev.mmio_read(off, 4) == 0xFFFFFFFFu);
    t.dev.mmio_write(off, 4, 0);
  }
  CHECK(t.dev.stats().rejected == 0);
  CHECK(t.access(0) == (access::kTpmRegValidSts | access::kTpmEstablishment | access::kActiveLocality));
}

TEST_CASE("INT_ENABLE keeps only defined bits; INT_VECTOR 4 bits", "[tis][registers]") {
  TisFixture t;
  t.request(1);
  t.dev.mmio_write(TisFixture::at(1, kIntEnable), 4, 0xFFFFFFFFu);
  CHECK(t.dev.mmio_read(TisFixture::at(1, kIntEnable), 4) == intr::kEnableWritable);
  CHECK(intr::kEnableWritable == 0x8000009Fu);
  t.dev.mmio_write(TisFixture::at(1, kIntVector), 1, 0xFB);
  CHECK(t.dev.mmio_read(TisFixture::at(1, kIntVector), 1) == 0x0B);
  // Locality 0 is not active: its registers do not change.
  t.dev.mmio_write(TisFixture::at(0, kIntEnable), 4, intr::kGlobalEnable);
  CHECK(t.dev.mmio_read(TisFixture::at(0, kIntEnable), 4) == 0);
}

TEST_CASE("accesses from reserved space into a register or the next page are rejected", "[tis][registers]") {
  TisFixture t;
  t.request(0);
  t.ready();
  const uint64_t before = t.dev.stats().rejected;
  t.dev.mmio_write(0x22, 4, 0x11223344);  // 0x22-0x25: reserved into DATA_FIFO
  CHECK(t.dev.command_received() == 0);
  CHECK(t.dev.mmio_read(0xFFE, 4) == 0xFFFFFFFFu);  // page end into locality 1's ACCESS
  CHECK(t.dev.stats().rejected == before + 2);
}
