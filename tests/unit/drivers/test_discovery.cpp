// drivers/tpm locate_tpm: the ACPI TPM2 table decides, the probe is the
// fallback, unsupported start methods are refused with a reason.
#include <catch.hpp>

#include "drivers/tpm/discovery.hpp"

using namespace mamori::drivers::tpm;

TEST_CASE("locate_tpm: TPM2 table start methods") {
  ProbeResult none;
  TpmLocation l = locate_tpm(true, 6, 0, none);  // QEMU tpm-tis
  CHECK(l.kind == TpmKind::Fifo);
  CHECK(l.base == 0xFED40000);
  CHECK(l.from_acpi);
  l = locate_tpm(true, 7, 0xFED40040, none);  // QEMU tpm-crb, Intel PTT
  CHECK(l.kind == TpmKind::Crb);
  CHECK(l.base == 0xFED40000);
  l = locate_tpm(true, 7, 0xFED70040, none);  // a CRB elsewhere: the table wins over the probe's address
  CHECK(l.base == 0xFED70000);
  l = locate_tpm(true, 7, 0xFED40000, none);  // control area not at +0x40
  CHECK(l.kind == TpmKind::None);
  CHECK(l.why != nullptr);
  for (uint32_t m : {0u, 2u, 8u, 11u, 13u, 15u}) {
    l = locate_tpm(true, m, 0xFED40040, none);
    CHECK(l.kind == TpmKind::None);
    CHECK(l.why != nullptr);
  }
}

TEST_CASE("locate_tpm: probe fallback without a TPM2 table") {
  ProbeResult p;
  CHECK(locate_tpm(false, 0, 0, p).kind == TpmKind::None);
  p.interface = Interface::Fifo;
  CHECK(locate_tpm(false, 0, 0, p).kind == TpmKind::Fifo);
  p.interface = Interface::Tis13;
  CHECK(locate_tpm(false, 0, 0, p).kind == TpmKind::Fifo);
  p.interface = Interface::Crb;
  TpmLocation l = locate_tpm(false, 0, 0, p);
  CHECK(l.kind == TpmKind::Crb);
  CHECK(l.base == 0xFED40000);
  CHECK_FALSE(l.from_acpi);
}
