// The rules for XCR0 (SDM 1 §13.3 "Enabling the XSAVE Feature Set and
// XSAVE-Enabled Features", SDM 2 XSETBV "Operation") and the size of a
// standard-format XSAVE area (SDM 1 §13.4, §13.5). Pure: the caller reads
// CPUID.(EAX=0DH) into an XsaveCpu; the VMM decides with these functions
// which XCR0 values a guest may set and how large its save area must be.
#pragma once
#include <stdint.h>

namespace mamori::arch {

// State components (SDM 1 §13.1, Table 13-1): bit i of XCR0 / IA32_XSS.
inline constexpr uint64_t kXcr0X87 = 1ull << 0;
inline constexpr uint64_t kXcr0Sse = 1ull << 1;
inline constexpr uint64_t kXcr0Avx = 1ull << 2;
inline constexpr uint64_t kXcr0Bndregs = 1ull << 3;     // MPX
inline constexpr uint64_t kXcr0Bndcsr = 1ull << 4;      // MPX
inline constexpr uint64_t kXcr0Opmask = 1ull << 5;      // AVX-512 k0-k7
inline constexpr uint64_t kXcr0ZmmHi256 = 1ull << 6;    // AVX-512 upper halves of ZMM0-15
inline constexpr uint64_t kXcr0Hi16Zmm = 1ull << 7;     // AVX-512 ZMM16-31
inline constexpr uint64_t kXcr0Pkru = 1ull << 9;
inline constexpr uint64_t kXcr0TileCfg = 1ull << 17;    // AMX
inline constexpr uint64_t kXcr0TileData = 1ull << 18;   // AMX
inline constexpr uint64_t kXcr0Mpx = kXcr0Bndregs | kXcr0Bndcsr;
inline constexpr uint64_t kXcr0Avx512 = kXcr0Opmask | kXcr0ZmmHi256 | kXcr0Hi16Zmm;
inline constexpr uint64_t kXcr0Amx = kXcr0TileCfg | kXcr0TileData;
// Supervisor components live in IA32_XSS only (Table 13-1: PT 8, PASID 10,
// CET 11-12, HDC 13, UINTR 14, LBR 15, HWP 16): never in XCR0.
inline constexpr uint64_t kXssOnly = (1ull << 8) | (0x7Full << 10);
// The user components the VMM knows how to switch between contexts (it
// saves them with XSAVE in the standard format, whatever they hold).
inline constexpr uint64_t kXcr0Managed = kXcr0X87 | kXcr0Sse | kXcr0Avx | kXcr0Mpx | kXcr0Avx512 | kXcr0Pkru | kXcr0Amx;

// The legacy region (512 bytes) and the XSAVE header (64 bytes) come first
// in every XSAVE area (§13.4.1, §13.4.2); components 2 and up sit at the
// offsets CPUID.(0DH,i).EBX gives (standard format, §13.4.3).
inline constexpr uint32_t kXsaveLegacyBytes = 512;
inline constexpr uint32_t kXsaveHeaderBytes = 64;
inline constexpr unsigned kXsaveComponents = 19;   // bits 0..18 (AMX tile data is the highest known)

struct XsaveCpu {
  uint64_t xcr0_supported = 0;              // CPUID.(0DH,0):EDX:EAX
  uint32_t size_all = 0;                    // CPUID.(0DH,0):ECX (all supported XCR0 components)
  uint32_t size[kXsaveComponents] = {};     // CPUID.(0DH,i):EAX, i >= 2
  uint32_t offset[kXsaveComponents] = {};   // CPUID.(0DH,i):EBX, i >= 2
};

// The architectural rules alone (SDM 2 XSETBV): bit 0 set; AVX needs SSE;
// MPX's two bits together; AVX-512's three bits all or none, and only with
// AVX (and SSE); AMX's two bits together; no supervisor component.
bool xcr0_consistent(uint64_t value);

// What a guest's XSETBV may set: consistent and within `allowed`.
bool xcr0_allowed(uint64_t value, uint64_t allowed);

// Bytes of a standard-format area holding the components of `mask`
// (§13.4.3: the end of the furthest component, at least legacy + header).
// 0 if a component of `mask` has no size in `cpu` (CPUID did not report it).
uint32_t xsave_area_bytes(const XsaveCpu& cpu, uint64_t mask);

// The components the VMM switches and lets guests enable: those it
// manages that the CPU supports, whole groups only (so the result is
// itself consistent), dropping the largest optional groups (AMX, then
// AVX-512, then MPX, PKRU, AVX) until the area fits `max_area_bytes`.
// x87 | SSE always remains (the CPU has both in 64-bit mode).
uint64_t vmm_xcr0_mask(const XsaveCpu& cpu, uint32_t max_area_bytes);

}  // namespace mamori::arch
