#include "page_tables.hpp"
#include "console.hpp"
#include "efi.hpp"

namespace mamori::loader {
namespace {
// x86-64 paging entry bits (SDM 3A §4.5, Table 4-15..4-20).
constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kLargePage = 1ull << 7;
constexpr uint64_t kNoExecute = 1ull << 63;
constexpr uint64_t kAddrMask = 0x000FFFFFFFFFF000ull;
constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t k1G = 1ull << 30;
constexpr uint64_t kBelow4G = 0xFFFFFFFFull;

uint64_t alloc_table() {
  EFI_PHYSICAL_ADDRESS addr = kBelow4G;
  EFI_STATUS s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, 1, &addr);
  if (EFI_ERROR(s)) {
    con_fatal("cannot allocate a page-table frame below 4 GiB (status %lx)", static_cast<unsigned long>(s));
    return 0;
  }
  auto* p = reinterpret_cast<uint64_t*>(addr);
  for (int i = 0; i < 512; ++i) p[i] = 0;
  return addr;
}

uint64_t* table(uint64_t phys) { return reinterpret_cast<uint64_t*>(phys); }

// Returns the next-level table for entry e of t, creating it (and splitting
// a 2 MiB identity page into 512 4 KiB pages with the same rights) if needed.
uint64_t next_level(uint64_t t, unsigned index) {
  uint64_t& e = table(t)[index];
  if (e & kPresent) {
    if (!(e & kLargePage)) return e & kAddrMask;
    uint64_t pt = alloc_table();
    if (!pt) return 0;
    uint64_t base = e & kAddrMask & ~(k2M - 1);
    uint64_t rights = e & (kWritable | kNoExecute);
    for (unsigned i = 0; i < 512; ++i) table(pt)[i] = (base + i * 4096ull) | rights | kPresent;
    e = pt | kPresent | kWritable;
    return pt;
  }
  uint64_t n = alloc_table();
  if (!n) return 0;
  e = n | kPresent | kWritable;  // rights are enforced at the leaf
  return n;
}
}  // namespace

bool PageTableBuilder::init(uint64_t identity_top) {
  pml4 = alloc_table();
  if (!pml4) return false;
  identity_top = (identity_top + k1G - 1) & ~(k1G - 1);
  for (uint64_t pa = 0; pa < identity_top; pa += k2M) {
    uint64_t pdpt = next_level(pml4, (pa >> 39) & 511);
    if (!pdpt) return false;
    uint64_t pd = next_level(pdpt, (pa >> 30) & 511);
    if (!pd) return false;
    table(pd)[(pa >> 21) & 511] = pa | kPresent | kWritable | kLargePage | kNoExecute;
  }
  return true;
}

bool PageTableBuilder::map_4k(uint64_t virt, uint64_t phys, uint64_t size, bool writable, bool executable) {
  for (uint64_t off = 0; off < size; off += 4096) {
    uint64_t va = virt + off;
    uint64_t pdpt = next_level(pml4, (va >> 39) & 511);
    if (!pdpt) return false;
    uint64_t pd = next_level(pdpt, (va >> 30) & 511);
    if (!pd) return false;
    uint64_t pt = next_level(pd, (va >> 21) & 511);
    if (!pt) return false;
    table(pt)[(va >> 12) & 511] = ((phys + off) & kAddrMask) | kPresent |
                                  (writable ? kWritable : 0) | (executable ? 0 : kNoExecute);
  }
  return true;
}

}  // namespace mamori::loader
