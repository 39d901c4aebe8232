// Guest linear → guest physical, by walking the guest's own page tables
// (SDM 3A ch. 4): no paging, 32-bit paging (4 KiB and, with CR4.PSE,
// 4 MiB pages), PAE paging (PDPTEs read from memory through CR3), and
// 4-level IA-32e paging (2 MiB and 1 GiB pages), then the access rights of
// §4.6 (U/S with CPL, R/W with CR0.WP, SMAP with RFLAGS.AC, SMEP, XD) and the
// #PF error code of §4.7 when the guest's own tables deny the access. Used
// by the MMIO emulation (vmm/emulate/mmio_emulator.hpp) for the instruction
// fetch and every element of a string instruction. Pure: guest memory is
// read through a caller-supplied reader; nothing is written (accessed and
// dirty bits are not set, see docs/tpm-device.md).
#pragma once
#include <stdint.h>

namespace mamori::emulate {

// Control registers as the guest set them (read shadows under the
// guest/host masks: mamori's masks own no paging bit, vmx/cr_shadow.hpp).
struct GuestPagingState {
  uint64_t cr0, cr3, cr4, efer;
};

struct GuestMemoryReader {
  // Reads `bytes` (4 or 8) at guest-physical `gpa`; false if not guest RAM.
  bool (*read)(void* ctx, uint64_t gpa, unsigned bytes, uint64_t* out);
  void* ctx;
};

enum class WalkStatus : uint8_t {
  Ok,
  NotPresent,     // a paging entry with P = 0: the guest would #PF
  ReservedBits,   // reserved bits set (ignored bits are not checked): #PF with RSVD
  Denied,         // present, but the access rights of §4.6 forbid it: #PF with P = 1
  Unreadable,     // a paging structure outside guest RAM
  BadMode,        // CR0.PG without CR0.PE, IA-32e without PAE, or 5-level paging
};

struct WalkResult {
  WalkStatus status = WalkStatus::NotPresent;
  uint64_t gpa = 0;        // valid when Ok
  uint64_t page_size = 0;  // 4 KiB, 2 MiB, 4 MiB or 1 GiB
  bool writable = false;   // R/W along the whole walk (supervisor view)
  bool user = false;       // U/S along the whole walk: a user-mode address (§4.6)
  bool executable = false; // no XD along the walk (XD counts only with EFER.NXE)
};

const char* describe(WalkStatus s);

// The translation alone, no access rights: Ok, NotPresent, ReservedBits,
// Unreadable or BadMode.
WalkResult translate_guest_linear(const GuestPagingState& s, uint64_t linear, const GuestMemoryReader& mem);

enum class AccessKind : uint8_t { Read, Write, Fetch };

// Who accesses: all accesses the emulator makes are explicit (an
// instruction's own operands, or its fetch), so the mode is the CPL's.
struct Accessor {
  AccessKind kind = AccessKind::Read;
  uint8_t cpl = 0;        // 0-3; 3 = user-mode access
  bool rflags_ac = false; // RFLAGS.AC: lets CPL < 3 touch user pages under SMAP
};

// §4.6.1: is an Ok walk's access allowed?
bool access_allowed(const GuestPagingState& s, const WalkResult& w, const Accessor& a);

// The walk plus the access rights: an Ok walk the rights deny becomes Denied.
WalkResult translate_guest_access(const GuestPagingState& s, uint64_t linear, const Accessor& a,
                                  const GuestMemoryReader& mem);

// NotPresent, ReservedBits and Denied are the guest's own page faults.
constexpr bool is_page_fault(WalkStatus s) {
  return s == WalkStatus::NotPresent || s == WalkStatus::ReservedBits || s == WalkStatus::Denied;
}

// §4.7 Figure 4-12: the #PF error code for such a walk (P, W/R, U/S, RSVD,
// I/D; protection keys are not modelled).
uint32_t page_fault_error_code(const GuestPagingState& s, WalkStatus st, const Accessor& a);

}  // namespace mamori::emulate
