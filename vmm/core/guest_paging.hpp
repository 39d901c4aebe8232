// Guest linear → guest physical, by walking the guest's own page tables
// (SDM 3A ch. 4): no paging, 32-bit paging (4 KiB and, with CR4.PSE,
// 4 MiB pages), PAE paging (PDPTEs read from memory through CR3), and
// 4-level IA-32e paging (2 MiB and 1 GiB pages). Used to fetch the
// instruction that faulted on an emulated MMIO region. Pure: guest memory
// is read through a caller-supplied reader; nothing is written (accessed
// and dirty bits are the guest's business and left alone).
#pragma once
#include <stdint.h>

namespace mamori::core {

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
  ReservedBits,   // reserved bits set (ignored bits are not checked)
  Unreadable,     // a paging structure outside guest RAM
  BadMode,        // CR0.PG without CR0.PE, or IA-32e without PAE
};

struct WalkResult {
  WalkStatus status = WalkStatus::NotPresent;
  uint64_t gpa = 0;        // valid when Ok
  uint64_t page_size = 0;  // 4 KiB, 2 MiB, 4 MiB or 1 GiB
  bool writable = false;   // R/W along the whole walk (supervisor view)
};

const char* describe(WalkStatus s);

WalkResult translate_guest_linear(const GuestPagingState& s, uint64_t linear, const GuestMemoryReader& mem);

}  // namespace mamori::core
