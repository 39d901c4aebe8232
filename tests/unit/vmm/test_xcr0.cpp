// The XCR0 rules of SDM 1 §13.3 / SDM 2 XSETBV and the XSAVE area size
// (vmm/arch/xcr0.hpp). The CPU tables are CPUID.(0DH) as real parts and
// Bochs report them.
#include <catch.hpp>
#include <stdint.h>

#include "vmm/arch/xcr0.hpp"

using namespace mamori::arch;

namespace {
// A Skylake-SP-like part: x87, SSE, AVX, MPX, AVX-512, PKRU (CPUID.(0DH,i)
// standard-format offsets and sizes).
XsaveCpu skylake_sp() {
  XsaveCpu c;
  c.xcr0_supported = 0x2FF;
  c.size[2] = 256;  c.offset[2] = 576;
  c.size[3] = 64;   c.offset[3] = 960;
  c.size[4] = 64;   c.offset[4] = 1024;
  c.size[5] = 64;   c.offset[5] = 1088;
  c.size[6] = 512;  c.offset[6] = 1152;
  c.size[7] = 1024; c.offset[7] = 1664;
  c.size[9] = 8;    c.offset[9] = 2688;
  c.size_all = 2696;
  return c;
}
// Sapphire Rapids adds AMX: TILECFG 64 bytes at 2752, TILEDATA 8 KiB at 2816.
XsaveCpu sapphire_rapids() {
  XsaveCpu c = skylake_sp();
  c.xcr0_supported = 0x602E7;  // no MPX, AMX
  c.size[3] = c.size[4] = 0;
  c.offset[3] = c.offset[4] = 0;
  c.size[17] = 64;   c.offset[17] = 2752;
  c.size[18] = 8192; c.offset[18] = 2816;
  c.size_all = 11008;
  return c;
}
XsaveCpu ivy_bridge() {  // x87, SSE, AVX
  XsaveCpu c;
  c.xcr0_supported = 0x7;
  c.size[2] = 256; c.offset[2] = 576;
  c.size_all = 832;
  return c;
}
}  // namespace

TEST_CASE("xcr0: the architectural rules of XSETBV") {
  CHECK(xcr0_consistent(0x1));
  CHECK(xcr0_consistent(0x3));
  CHECK(xcr0_consistent(0x7));
  CHECK(xcr0_consistent(0x1F));
  CHECK(xcr0_consistent(0xE7));
  CHECK(xcr0_consistent(0x2E7));
  CHECK(xcr0_consistent(0x602E7));
  CHECK(xcr0_consistent(0x60003));       // AMX does not need AVX
  CHECK_FALSE(xcr0_consistent(0x0));     // x87 bit clear
  CHECK_FALSE(xcr0_consistent(0x2));
  CHECK_FALSE(xcr0_consistent(0x5));     // AVX without SSE
  CHECK_FALSE(xcr0_consistent(0xF));     // BNDREGS without BNDCSR
  CHECK_FALSE(xcr0_consistent(0x17));    // BNDCSR without BNDREGS
  CHECK_FALSE(xcr0_consistent(0x23));    // opmask alone, and without AVX (the finding's value)
  CHECK_FALSE(xcr0_consistent(0x27));    // opmask alone
  CHECK_FALSE(xcr0_consistent(0x67));    // two of AVX-512's three
  CHECK_FALSE(xcr0_consistent(0xA7));
  CHECK_FALSE(xcr0_consistent(0xC7));
  CHECK_FALSE(xcr0_consistent(0xE3));    // all of AVX-512 but no AVX
  CHECK_FALSE(xcr0_consistent(0xE1));
  CHECK_FALSE(xcr0_consistent(0x20003)); // TILECFG without TILEDATA
  CHECK_FALSE(xcr0_consistent(0x40003)); // TILEDATA without TILECFG
  CHECK_FALSE(xcr0_consistent(0x103));   // PT (supervisor)
  for (unsigned b = 10; b <= 16; ++b) CHECK_FALSE(xcr0_consistent(0x3 | (1ull << b)));
}

TEST_CASE("xcr0: only components the VMM allows") {
  CHECK(xcr0_allowed(0x7, 0x7));
  CHECK(xcr0_allowed(0x3, 0x7));
  CHECK_FALSE(xcr0_allowed(0x207, 0x7));   // PKRU not allowed here
  CHECK_FALSE(xcr0_allowed(0xE7, 0x7));
  CHECK_FALSE(xcr0_allowed(1ull << 63, ~0ull));
  CHECK_FALSE(xcr0_allowed(0x23, ~0ull));  // allowed bits, inconsistent value
}

TEST_CASE("xcr0: XSAVE area size of a mask (standard format)") {
  XsaveCpu s = skylake_sp();
  CHECK(xsave_area_bytes(s, 0x1) == 576);
  CHECK(xsave_area_bytes(s, 0x3) == 576);
  CHECK(xsave_area_bytes(s, 0x7) == 832);
  CHECK(xsave_area_bytes(s, 0xE7) == 2688);
  CHECK(xsave_area_bytes(s, 0x2FF) == s.size_all);
  CHECK(xsave_area_bytes(s, 0x1ull << 17 | 0x3) == 0);  // no size reported for AMX
  CHECK(xsave_area_bytes(s, 1ull << 40) == 0);
  XsaveCpu r = sapphire_rapids();
  CHECK(xsave_area_bytes(r, 0x602E7) == r.size_all);
}

TEST_CASE("xcr0: the VMM's mask is consistent, supported and fits") {
  XsaveCpu s = skylake_sp();
  CHECK(vmm_xcr0_mask(s, 16384) == 0x2FF);
  CHECK(xcr0_consistent(vmm_xcr0_mask(s, 16384)));
  CHECK(vmm_xcr0_mask(s, 1024) == 0x7);             // AVX-512, MPX and PKRU (at 2688) do not fit 1 KiB
  CHECK(vmm_xcr0_mask(s, 576) == 0x3);
  XsaveCpu r = sapphire_rapids();
  CHECK(vmm_xcr0_mask(r, 16384) == 0x602E7);
  CHECK(vmm_xcr0_mask(r, 4096) == 0x2E7);           // AMX's 8 KiB of tiles does not fit one frame
  CHECK(vmm_xcr0_mask(ivy_bridge(), 4096) == 0x7);
  // A CPU reporting half a group (a broken or hostile CPUID) gets neither half.
  XsaveCpu half = skylake_sp();
  half.xcr0_supported = 0x6F;   // opmask, ZmmHi256 but not Hi16_ZMM; BNDREGS without BNDCSR
  CHECK(vmm_xcr0_mask(half, 16384) == 0x7);
  XsaveCpu nosize = skylake_sp();
  nosize.size[6] = 0;           // AVX-512 component without a size: the group goes
  CHECK(vmm_xcr0_mask(nosize, 16384) == 0x21F);
  XsaveCpu noavx = skylake_sp();
  noavx.xcr0_supported = 0xE3;  // AVX-512 but not AVX: AVX-512 cannot be enabled
  CHECK(vmm_xcr0_mask(noavx, 16384) == 0x3);
  // Supervisor bits a CPUID might (wrongly) report are never in the mask.
  XsaveCpu sup = ivy_bridge();
  sup.xcr0_supported |= 1ull << 8 | 1ull << 11;
  CHECK(vmm_xcr0_mask(sup, 4096) == 0x7);
}
