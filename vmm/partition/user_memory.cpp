#include "user_memory.hpp"
#include "vmm/mem/frames.hpp"

namespace mamori::partition {
namespace {
enum class Need : uint8_t { Read, Write, Any };

// Calls f(host pointer, bytes) for each piece of [va, va+n) within a page.
template <typename F>
bool each_piece(Process& p, uint64_t va, size_t n, Need need, F&& f) {
  while (n) {
    ept::Translation t = page_table(p).lookup(va & ~0xFFFull);
    if (!t.present) return false;
    if (need != Need::Any) {
      if (!ept::has(t.attr.perm, ept::Perm::user)) return false;
      if (need == Need::Write && !ept::has(t.attr.perm, ept::Perm::write)) return false;
    }
    size_t in_page = 4096 - (va & 0xFFF);
    size_t k = n < in_page ? n : in_page;
    f(mem::phys_to_virt<uint8_t>((t.phys & ~0xFFFull) + (va & 0xFFF)), k);
    va += k;
    n -= k;
  }
  return true;
}
}  // namespace

bool copy_from_user(Process& p, uint64_t va, void* dst, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  return each_piece(p, va, n, Need::Read, [&](uint8_t* src, size_t k) {
    __builtin_memcpy(d, src, k);
    d += k;
  });
}

bool copy_to_user(Process& p, uint64_t va, const void* src, size_t n) {
  auto* s = static_cast<const uint8_t*>(src);
  return each_piece(p, va, n, Need::Write, [&](uint8_t* dst, size_t k) {
    __builtin_memcpy(dst, s, k);
    s += k;
  });
}

bool poke_user(Process& p, uint64_t va, const void* src, size_t n) {
  auto* s = static_cast<const uint8_t*>(src);
  return each_piece(p, va, n, Need::Any, [&](uint8_t* dst, size_t k) {
    __builtin_memcpy(dst, s, k);
    s += k;
  });
}

}  // namespace mamori::partition
