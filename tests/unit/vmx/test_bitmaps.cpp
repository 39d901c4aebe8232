// MSR and I/O bitmaps (§25.6.4, §25.6.9, §26.1.3), VMXON/VMCS region set-up
// and INVEPT/INVVPID type choice.
#include <catch.hpp>
#include <cstring>
#include <vector>

#include "fixtures.hpp"
#include "vmx/bitmaps.hpp"
#include "vmx/invalidation.hpp"
#include "vmx/regions.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

TEST_CASE("MSR bitmap layout: read-low, read-high, write-low, write-high") {
  std::vector<uint8_t> page(4096, 0);
  MsrBitmap b(page.data());
  CHECK(b.set_read(0x1B, true));          // IA32_APIC_BASE: byte 3, bit 3
  CHECK(page[3] == 0x08);
  CHECK(b.set_write(0xC0000080, true));   // IA32_EFER: write-high byte 3072 + 0x10
  CHECK(page[3072 + 0x10] == 0x01);
  CHECK(b.set_read(0xC0000103, true));    // TSC_AUX: read-high byte 1024 + 0x20, bit 3
  CHECK(page[1024 + 0x20] == 0x08);
  CHECK(b.set_write(0x1FFF, true));       // last low MSR: write-low byte 2048 + 0x3FF, bit 7
  CHECK(page[2048 + 0x3FF] == 0x80);
  CHECK(b.read_exits(0x1B));
  CHECK_FALSE(b.write_exits(0x1B));
  CHECK(b.write_exits(0xC0000080));
  CHECK_FALSE(b.read_exits(0xC0000080));
  // Outside both ranges: always exits, cannot be passed through.
  CHECK_FALSE(b.set_read(0x2000, false));
  CHECK(b.read_exits(0x2000));
  CHECK(b.write_exits(0x40000000));
  b.intercept_all();
  CHECK(b.read_exits(0x10));
  b.set_read(0x10, false);  // allow RDTSC's MSR reads
  CHECK_FALSE(b.read_exits(0x10));
  CHECK(b.write_exits(0x10));
  b.pass_all();
  CHECK_FALSE(b.write_exits(0x10));
}

TEST_CASE("I/O bitmaps: A for 0-7FFF, B for 8000-FFFF, wrap-around exits") {
  std::vector<uint8_t> a(4096, 0), bpage(4096, 0);
  IoBitmap io(a.data(), bpage.data());
  io.set_range(0x3F8, 8, true);           // COM1
  CHECK(a[0x3F8 / 8] == 0xFF);
  CHECK(io.port_exits(0x3FF));
  CHECK_FALSE(io.port_exits(0x400));
  io.set(0x8000, true);
  CHECK(bpage[0] == 0x01);
  io.set(0xFFFF, true);
  CHECK(bpage[4095] == 0x80);
  CHECK(io.access_exits(0x3F6, 4));       // touches 0x3F8
  CHECK_FALSE(io.access_exits(0x3F0, 4));
  io.set(0xFFFF, false);
  CHECK(io.access_exits(0xFFFE, 4));      // wraps past FFFFH
  CHECK_FALSE(io.access_exits(0xFFFE, 2));
  io.intercept_all();
  CHECK(io.port_exits(0x80));
  io.pass_all();
  CHECK_FALSE(io.port_exits(0x3F8));
  io.set_range(0xFFF0, 100, true);        // clipped at FFFFH, no overflow
  CHECK(io.port_exits(0xFFFF));
  CHECK_FALSE(io.port_exits(0x0));
}

TEST_CASE("CR0/CR4 adjusted for VMXON (App. A.7, A.8)") {
  const VmxCapabilities c = decode(raw_from(kBochsSkylakeX));
  CHECK(adjust_cr0(c, 0x80050033) == 0x80050033);
  CHECK(adjust_cr0(c, 0x00000011) == 0x80000031);  // PE, NE, PG forced
  CHECK(adjust_cr4(c, 0x620) == 0x2620);           // VMXE forced
  CHECK(adjust_cr4(c, 0x400000ull | 0x620) == 0x2620);  // bit 22 not allowed by FIXED1 0x3727FF
}

TEST_CASE("VMXON/VMCS region header") {
  alignas(4096) static uint8_t page[4096];
  std::memset(page, 0xAA, sizeof page);
  const VmxCapabilities sky = decode(raw_from(kBochsSkylakeX));
  REQUIRE(prepare_vmx_region(page, sizeof page, 0x123000, sky));
  uint32_t rev;
  std::memcpy(&rev, page, 4);
  CHECK(rev == 0x2B);
  CHECK(page[4] == 0);
  CHECK(page[4095] == 0);
  CHECK_FALSE(prepare_vmx_region(page, sizeof page, 0x123800, sky));  // misaligned
  CHECK_FALSE(prepare_vmx_region(page, 1024, 0x123000, sky));         // Bochs VMCS is 4 KiB
  const VmxCapabilities coffee = decode(raw_from(kCoffeeLake));
  CHECK(prepare_vmx_region(page, 1024, 0x123000, coffee));  // 1 KiB suffices there
  std::memcpy(&rev, page, 4);
  CHECK(rev == 4);
  VmxCapabilities low = sky;
  low.physaddr_32bit = true;
  CHECK_FALSE(prepare_vmx_region(page, sizeof page, 0x100000000ull, low));
  CHECK(prepare_vmx_region(page, sizeof page, 0xFFFFF000ull, low));
}

TEST_CASE("INVEPT/INVVPID type for one guest") {
  InveptType t{};
  InvvpidType v{};
  const VmxCapabilities sky = decode(raw_from(kBochsSkylakeX));
  REQUIRE(invept_type_for_one_guest(sky, &t));
  CHECK(t == InveptType::single_context);
  REQUIRE(invvpid_type_for_one_guest(sky, &v));
  CHECK(v == InvvpidType::single_context);
  VmxCapabilities only_all = sky;
  only_all.ept.invept_single_context = false;
  only_all.ept.invvpid_single_context = false;
  REQUIRE(invept_type_for_one_guest(only_all, &t));
  CHECK(t == InveptType::all_context);
  REQUIRE(invvpid_type_for_one_guest(only_all, &v));
  CHECK(v == InvvpidType::all_context);
  VmxCapabilities none = sky;
  none.ept.invept = false;
  none.ept.invvpid = false;
  CHECK_FALSE(invept_type_for_one_guest(none, &t));
  CHECK_FALSE(invvpid_type_for_one_guest(none, &v));
}
