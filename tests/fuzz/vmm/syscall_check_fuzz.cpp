// libFuzzer: the partition's system-call argument checks
// (vmm/partition/syscall_check.hpp) with arbitrary register values, as a
// hostile engine passes them. Whatever is accepted must be a page-aligned
// range inside [kMinUserAddress, kUserEnd) without overflow, never W+X.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cstdlib>

#include "vmm/partition/syscall_check.hpp"

using namespace mamori::partition::syscall;

namespace {
void require(bool c) {
  if (!c) std::abort();
}
bool inside(const Range& r) {
  return (r.start & (kPage - 1)) == 0 && (r.len & (kPage - 1)) == 0 && r.start >= kMinUserAddress &&
         r.start <= kUserEnd && r.len <= kUserEnd - r.start;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t a[6] = {};
  memcpy(a, data, size < sizeof a ? size : sizeof a);
  const uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3];
  MmapCheck m = check_mmap(addr, len, prot, flags);
  if (m.error == 0) {
    require(!((prot & kProtWrite) && (prot & kProtExec)));
    require(m.len >= len && m.len - len < kPage && (m.len & (kPage - 1)) == 0 && m.len <= kMaxMmapBytes);
    if (m.fixed) require(inside(Range{addr, m.len}));
  } else {
    require(m.error < 0 && m.error > -4096);
  }
  Range r;
  if (check_mprotect(addr, len, prot, r) == 0) {
    require(!((prot & kProtWrite) && (prot & kProtExec)));
    require(inside(r) && r.start == addr && r.len >= len);
  }
  if (check_munmap(addr, len, r) == 0) require(inside(r) && r.start == addr && r.len >= len);
  if (brk_allowed(addr, a[4], a[5])) require(addr >= kMinUserAddress && addr >= a[4] && addr <= a[5] && addr <= kUserEnd);
  if (fs_base_allowed(addr)) require(addr < kUserEnd);
  uint64_t f = user_rflags(a[4]);
  require((f & 0x200) && (f & 0x2) && !(f & (0x3000 | 0x4000 | 0x10000 | 0x20000 | 0x80000 | 0x100000)));
  (void)handler_for(a[5]);
  return 0;
}
