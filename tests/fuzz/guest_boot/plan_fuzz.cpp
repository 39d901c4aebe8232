// Fuzz the layout planner with arbitrary requests: an accepted plan never
// places a module outside RAM, over the kernel, over another module or
// below 1 MiB, and its memory map is sorted without overlaps.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_boot/layout.hpp"

using namespace mamori::vmm::guest_boot;

namespace {
void require(bool c) {
  if (!c) abort();
}
bool in_ram(const Plan& p, uint64_t a, uint64_t n) {
  if (a >= kHighRamStart && a + n <= p.low_ram) return true;
  return a >= k4G && a + n <= k4G + p.high_ram;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t w[40] = {};
  memcpy(w, data, size < sizeof w ? size : sizeof w);
  PlanRequest r{};
  r.ram_bytes = (w[0] % (70ull << 10)) << 20;  // up to 70 GiB, any MiB
  r.kernel_base = w[1] % (5ull << 30);
  r.kernel_span = w[2] % (4ull << 30);
  r.cmdline_len = w[3] % (1u << 20);
  r.cmdline_max = w[4] % (1u << 20);
  r.module_count = w[5] % (kMaxModules + 2);
  r.module_max_end = (w[6] & 1) ? 0 : w[6] % (8ull << 30);
  r.modules_above_4g = w[7] & 1;
  for (size_t i = 0; i < kMaxModules; ++i) {
    r.modules[i].size = w[8 + i] % (1ull << (w[8 + i] % 36 + 1));
    r.modules[i].cmdline_len = (w[24 + i] & 3) ? 0 : w[24 + i] % 0x12000;
  }
  Plan p;
  if (plan(r, p) != PlanError::None) return 0;
  require(p.low_ram + p.high_ram == r.ram_bytes);
  // Above 1 MiB in RAM, or (a Multiboot kernel linked low) in conventional
  // memory clear of the command line and the boot structures below 0x10000.
  const bool high = r.kernel_base >= kHighRamStart && r.kernel_base + r.kernel_span <= p.low_ram;
  const bool low = r.kernel_base >= kModuleCmdlineGpa && r.kernel_base + r.kernel_span <= kLowRamEnd &&
                   (r.kernel_base + r.kernel_span <= kCmdlineGpa || r.kernel_base > kCmdlineGpa + r.cmdline_len);
  require(high || low);
  for (size_t i = 0; i < r.module_count; ++i) {
    uint64_t a = p.module_gpa[i], n = r.modules[i].size ? r.modules[i].size : 1;
    require(a % kPageSize == 0);
    require(in_ram(p, a, n));
    require(a + n <= r.kernel_base || a >= r.kernel_base + r.kernel_span || r.kernel_span == 0);
    if (!r.modules_above_4g || r.module_max_end) require(a + n <= (r.module_max_end ? r.module_max_end : k4G));
    for (size_t j = 0; j < i; ++j) {
      uint64_t b = p.module_gpa[j], m = r.modules[j].size ? r.modules[j].size : 1;
      require(a + n <= b || b + m <= a);
    }
    if (p.module_cmdline_gpa[i])
      require(p.module_cmdline_gpa[i] >= kModuleCmdlineGpa &&
              p.module_cmdline_gpa[i] + r.modules[i].cmdline_len + 1 <= kModuleCmdlineGpa + kModuleCmdlineSize);
  }
  for (size_t i = 1; i < p.map_count; ++i) require(p.map[i - 1].base + p.map[i - 1].size <= p.map[i].base);
  return 0;
}
