// The guest page walker reads page tables a guest controls: any bytes, any
// CR0/CR3/CR4/EFER. Invariants: no crash, no read outside the guest's
// memory, and an Ok walk yields a page size the mode allows and an address
// whose offset within the page is the linear address's.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/emulate/guest_paging.hpp"

using namespace mamori::emulate;

namespace {
struct Memory {
  const uint8_t* data;
  size_t size;
};

bool read(void* ctx, uint64_t gpa, unsigned n, uint64_t* out) {
  auto* m = static_cast<Memory*>(ctx);
  if (n != 4 && n != 8) abort();  // the walker only reads whole entries
  if (gpa >= m->size || n > m->size - gpa) return false;
  *out = 0;
  memcpy(out, m->data + gpa, n);
  return true;
}

uint64_t take64(const uint8_t*& p, size_t& n) {
  uint64_t v = 0;
  size_t k = n < 8 ? n : 8;
  memcpy(&v, p, k);
  p += k;
  n -= k;
  return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* p = data;
  size_t n = size;
  GuestPagingState s;
  s.cr0 = take64(p, n);
  s.cr3 = take64(p, n) & 0xFFFF;  // tables inside the fuzzer's memory most of the time
  s.cr4 = take64(p, n);
  s.efer = take64(p, n);
  uint64_t linear = take64(p, n);
  Memory m{p, n};  // the rest is guest memory from address 0
  WalkResult r = translate_guest_linear(s, linear, GuestMemoryReader{read, &m});
  if (r.status == WalkStatus::Ok) {
    const uint64_t ok_sizes[] = {1ull << 12, 1ull << 21, 1ull << 22, 1ull << 30};
    bool size_ok = false;
    for (uint64_t z : ok_sizes) size_ok |= r.page_size == z;
    if (!size_ok) abort();
    if ((r.gpa & (r.page_size - 1)) != (linear & (r.page_size - 1) & 0xFFFFFFFFull) &&
        (r.gpa & (r.page_size - 1)) != (linear & (r.page_size - 1)))
      abort();
  }
  (void)describe(r.status);
  return 0;
}
