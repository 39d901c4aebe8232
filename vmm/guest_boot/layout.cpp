#include "vmm/guest_boot/layout.hpp"

#include "vmm/guest_boot/bytes.hpp"

namespace mamori::vmm::guest_boot {

const char* describe(PlanError e) {
  switch (e) {
    case PlanError::None: return "no error";
    case PlanError::RamTooSmall: return "guest memory below 2 MiB";
    case PlanError::RamTooLarge: return "guest memory above 64 GiB";
    case PlanError::RamNotAligned: return "guest memory not a multiple of 2 MiB";
    case PlanError::CmdlineTooLong: return "command line longer than the kernel or the boot area accepts";
    case PlanError::TooManyModules: return "more than 16 modules";
    case PlanError::ModuleCmdlinesTooLong: return "module command lines longer than 64 KiB together";
    case PlanError::KernelOutsideRam:
      return "the kernel (with the memory it decompresses into) does not fit in guest RAM between 1 MiB and 3 GiB, "
             "nor below 640 KiB clear of the boot information (0x0-0xFFFF, the command lines from 0x10000 and 0x20000)";
    case PlanError::NoRoomForModule: return "no room in guest RAM for an initrd/module below the address it must end at";
  }
  return "unknown plan error";
}

uint64_t low_ram_bytes(uint64_t ram) { return ram < kMmioHoleStart ? ram : kMmioHoleStart; }
uint64_t high_ram_bytes(uint64_t ram) { return ram > kMmioHoleStart ? ram - kMmioHoleStart : 0; }

bool ram_offset(uint64_t ram, uint64_t gpa, uint64_t n, uint64_t& offset) {
  const uint64_t low = low_ram_bytes(ram), high = high_ram_bytes(ram);
  if (gpa < low) {
    if (n > low - gpa) return false;
    offset = gpa;
    return true;
  }
  if (gpa < k4G || gpa - k4G >= high || n > high - (gpa - k4G)) return false;
  offset = low + (gpa - k4G);
  return true;
}

namespace {

struct Span {
  uint64_t base, size;
};

// Highest page-aligned place for `size` bytes in [lo, hi) that avoids every
// span in `avoid`; false when there is none.
bool place_top_down(uint64_t lo, uint64_t hi, uint64_t size, const Span* avoid, size_t n, uint64_t& at) {
  uint64_t need = align_up(size ? size : 1, kPageSize);
  uint64_t top = align_down(hi, kPageSize);
  while (top >= lo && top - lo >= need) {
    uint64_t cand = top - need;
    bool clash = false;
    for (size_t i = 0; i < n; ++i) {
      if (avoid[i].size && overlaps(cand, need, avoid[i].base, avoid[i].size)) {
        top = align_down(avoid[i].base, kPageSize);  // below the obstacle: strictly lower, so this ends
        clash = true;
        break;
      }
    }
    if (!clash) {
      at = cand;
      return true;
    }
  }
  return false;
}

// A kernel linked below 1 MiB (Multiboot kernels may be: Multiboot 0.6.96
// §3.1.3 lets the header name any load address) goes there as it asks,
// inside conventional memory and clear of every low boot structure this
// plan uses: page 0 (real-mode IVT), the GDT, boot information and tables
// up to 0x10000, the module command lines actually written and the kernel
// command line at 0x20000.
bool low_kernel_fits(uint64_t base, uint64_t span, uint64_t module_cmdlines_end, uint64_t cmdline_len) {
  if (base >= kLowRamEnd || span > kLowRamEnd - base) return false;
  const Span used[] = {{0, kModuleCmdlineGpa},
                       {kModuleCmdlineGpa, module_cmdlines_end - kModuleCmdlineGpa},
                       {kCmdlineGpa, cmdline_len + 1}};
  for (const Span& u : used)
    if (u.size && overlaps(base, span ? span : 1, u.base, u.size)) return false;
  return true;
}

void add(Plan& p, uint64_t base, uint64_t size, RangeType t) {
  if (size == 0 || p.map_count == kMaxRanges) return;
  p.map[p.map_count++] = Range{base, size, t};
}

}  // namespace

PlanError plan(const PlanRequest& r, Plan& out) {
  out = Plan{};
  if (r.ram_bytes < (2ull << 20)) return PlanError::RamTooSmall;
  if (r.ram_bytes > kMaxRam) return PlanError::RamTooLarge;
  if (r.ram_bytes % (2ull << 20)) return PlanError::RamNotAligned;
  out.low_ram = low_ram_bytes(r.ram_bytes);
  out.high_ram = high_ram_bytes(r.ram_bytes);

  uint64_t cl_max = kCmdlineMax - 1;
  if (r.cmdline_max && r.cmdline_max < cl_max) cl_max = r.cmdline_max;
  if (r.cmdline_len > cl_max) return PlanError::CmdlineTooLong;
  out.cmdline_gpa = kCmdlineGpa;

  if (r.module_count > kMaxModules) return PlanError::TooManyModules;
  out.module_count = r.module_count;
  uint64_t cl_at = kModuleCmdlineGpa;
  for (size_t i = 0; i < r.module_count; ++i) {
    uint64_t n = r.modules[i].cmdline_len;
    if (n == 0) continue;
    if (n >= kModuleCmdlineSize || cl_at + n + 1 > kModuleCmdlineGpa + kModuleCmdlineSize)
      return PlanError::ModuleCmdlinesTooLong;
    out.module_cmdline_gpa[i] = cl_at;
    cl_at += n + 1;
  }

  // The kernel's span: above the low boot area and the BIOS hole, inside
  // RAM below the MMIO hole; or wholly in conventional memory beside the
  // boot structures (low_kernel_fits).
  const bool high_ok = r.kernel_base >= kHighRamStart && r.kernel_span <= out.low_ram &&
                       r.kernel_base <= out.low_ram - r.kernel_span;
  if (!high_ok && !low_kernel_fits(r.kernel_base, r.kernel_span, cl_at, r.cmdline_len))
    return PlanError::KernelOutsideRam;

  Span avoid[kMaxModules + 1];
  size_t n_avoid = 0;
  avoid[n_avoid++] = Span{r.kernel_base, r.kernel_span};
  uint64_t max_end = r.module_max_end ? r.module_max_end : k4G;
  for (size_t i = 0; i < r.module_count; ++i) {
    uint64_t size = r.modules[i].size;
    if (size > r.ram_bytes) return PlanError::NoRoomForModule;
    uint64_t at = 0;
    uint64_t hi = out.low_ram < max_end ? out.low_ram : max_end;
    bool ok = place_top_down(kHighRamStart, hi, size, avoid, n_avoid, at);
    if (!ok && r.modules_above_4g && out.high_ram) {
      uint64_t hhi = k4G + out.high_ram;
      if (r.module_max_end == 0 || r.module_max_end > k4G) {
        if (r.module_max_end && r.module_max_end < hhi) hhi = r.module_max_end;
        ok = place_top_down(k4G, hhi, size, avoid, n_avoid, at);
      }
    }
    if (!ok) return PlanError::NoRoomForModule;
    out.module_gpa[i] = at;
    avoid[n_avoid++] = Span{at, align_up(size ? size : 1, kPageSize)};
  }

  // The memory map, sorted by base.
  add(out, 0, kLowRamEnd, RangeType::Ram);
  add(out, kLowRamEnd, 0xA0000 - kLowRamEnd, RangeType::Reserved);
  add(out, kAcpiBase, kAcpiSize, RangeType::Reserved);
  add(out, kHighRamStart, out.low_ram - kHighRamStart, RangeType::Ram);
  add(out, kIoApicBase, kIoApicSize, RangeType::Reserved);
  add(out, kTpmBase, kTpmSize, RangeType::Reserved);
  add(out, kLapicBase, kLapicSize, RangeType::Reserved);
  add(out, k4G, out.high_ram, RangeType::Ram);
  return PlanError::None;
}

}  // namespace mamori::vmm::guest_boot
