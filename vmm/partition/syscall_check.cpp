#include "syscall_check.hpp"

namespace mamori::partition::syscall {
namespace {
// [addr, addr + len) rounded up to pages, inside the user half: false on
// overflow or past kUserEnd.
bool user_range(uint64_t addr, uint64_t len, Range& out) {
  if (len > kUserEnd) return false;
  uint64_t rounded = (len + kPage - 1) & ~(kPage - 1);
  if (addr > kUserEnd || rounded > kUserEnd - addr) return false;
  out = Range{addr, rounded};
  return true;
}
}  // namespace

MmapCheck check_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags) {
  MmapCheck c;
  if (!(flags & kMapAnonymous) || !(flags & kMapPrivate)) return {-kEACCES, false, 0};  // no files in the partition
  if (len == 0 || len > kMaxMmapBytes) return {-kEINVAL, false, 0};
  if ((prot & kProtWrite) && (prot & kProtExec)) return {-kEACCES, false, 0};  // W^X in the partition too
  c.len = (len + kPage - 1) & ~(kPage - 1);
  if (flags & kMapFixed) {
    if (addr & (kPage - 1)) return {-kEINVAL, false, 0};
    if (addr < kMinUserAddress) return {-kEPERM, false, 0};  // as Linux below mmap_min_addr
    Range r;
    if (!user_range(addr, c.len, r)) return {-kEINVAL, false, 0};
    c.fixed = true;
  }
  return c;
}

int64_t check_mprotect(uint64_t addr, uint64_t len, uint64_t prot, Range& out) {
  if (addr & (kPage - 1)) return -kEINVAL;
  if ((prot & kProtWrite) && (prot & kProtExec)) return -kEACCES;
  if (!user_range(addr, len, out)) return -kEINVAL;
  if (addr < kMinUserAddress) return -kENOMEM;
  return 0;
}

int64_t check_munmap(uint64_t addr, uint64_t len, Range& out) {
  if ((addr & (kPage - 1)) || addr < kMinUserAddress) return -kEINVAL;
  if (!user_range(addr, len, out)) return -kEINVAL;
  return 0;
}

bool brk_allowed(uint64_t want, uint64_t brk_start, uint64_t brk_limit) {
  return want >= kMinUserAddress && want >= brk_start && want <= brk_limit && want <= kUserEnd;
}

bool fs_base_allowed(uint64_t base) { return base < kUserEnd; }

uint64_t user_rflags(uint64_t saved) {
  constexpr uint64_t kKept = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x200000;
  constexpr uint64_t kFixed = 0x2, kIf = 0x200;
  return (saved & kKept) | kFixed | kIf;
}

}  // namespace mamori::partition::syscall
