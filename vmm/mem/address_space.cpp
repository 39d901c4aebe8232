#include "address_space.hpp"
#include <new>
#include "ept/ept.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/core/memory_map.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"

extern "C" char __image_start[], __text_end[], __rodata_end[], __image_end[];
extern "C" char __partition_entry_text_start[], __partition_entry_text_end[], __entry_area_start[], __entry_area_end[];

namespace mamori::mem {
namespace {
constexpr uint32_t kPatMsr = 0x277;                      // IA32_PAT (SDM 3A §11.12.2)
constexpr uint64_t kMmioWindow = 0xFE000000;             // IOAPIC, HPET, TPM, LAPIC, flash
constexpr uint64_t k4G = 1ull << 32;
constexpr uint32_t kCpuidExtFeatures = 0x80000001, kCpuidAddressSizes = 0x80000008;
constexpr uint32_t kEdxPage1G = 1u << 26;                // CPUID.80000001H:EDX[26]

// Table frames for the engine. The root must lie below 4 GiB: application
// processors load CR3 in 32-bit mode (smp/trampoline.S); a frame below
// 1 MiB is the allocator's only guaranteed-low pool, and one page suffices.
class TableFrames final : public ept::FrameAllocator {
 public:
  bool root_below_4g = true;
  uint64_t alloc_zeroed_frame() override {
    uint64_t p = 0;
    if (root_below_4g) {
      root_below_4g = false;
      p = alloc_frame_below_1m();
      if (p) {
        auto* w = phys_to_virt<uint64_t>(p);
        for (unsigned i = 0; i < 512; ++i) w[i] = 0;
      }
    } else {
      p = alloc_frame();
    }
    return p ? p : ept::kNoFrame;
  }
  void free_frame(uint64_t phys) override { mem::free_frame(phys); }
  uint64_t* table(uint64_t phys) override { return phys_to_virt<uint64_t>(phys); }
};

TableFrames g_frames;
TableFrames g_fw_frames;
alignas(ept::HostPageTable) uint8_t g_space_storage[sizeof(ept::HostPageTable)];
alignas(ept::HostPageTable) uint8_t g_fw_storage[sizeof(ept::HostPageTable)];
ept::HostPageTable* g_space;
const boot::BootInfo* g_bi;

ept::Options host_options(bool enforce_wx) {
  ept::Options o;
  o.page_2m = true;
  o.page_1g = (cpu::cpuid(kCpuidExtFeatures).edx & kEdxPage1G) != 0;
  o.enforce_wx = enforce_wx;
  uint32_t bits = cpu::cpuid(kCpuidAddressSizes).eax & 0xFF;
  if (bits >= 36 && bits <= 52) o.phys_bits = bits;
  return o;
}

bool is_ram(boot::MemoryType t) {
  switch (t) {
    case boot::MemoryType::Usable:
    case boot::MemoryType::Loaded:
    case boot::MemoryType::AcpiReclaim:
    case boot::MemoryType::AcpiNvs:
    case boot::MemoryType::RuntimeServices:
    case boot::MemoryType::Persistent:
      return true;
    default:
      return false;
  }
}

bool check(ept::Result r, const char* what, uint64_t a, uint64_t b) {
  if (r.ok()) return true;
  LOG_ERROR("mem: page tables: %s [0x%lx, 0x%lx) refused (status %u)", what, a, b, static_cast<unsigned>(r.status));
  return false;
}

bool map_image(ept::HostPageTable& t, bool all_exec);

// `all_exec`: the firmware-call variant (no W^X, nothing NX).
bool populate(ept::HostPageTable& t, bool all_exec) {
  using ept::Perm;
  const Perm rw = all_exec ? (Perm::read | Perm::write | Perm::exec) : (Perm::read | Perm::write);
  // The MMIO window under 4 GiB holds devices the VMM drives (LAPIC, TPM)
  // whether or not the firmware's map lists them.
  if (!check(t.map(kMmioWindow, kMmioWindow, k4G - kMmioWindow, {rw, ept::MemType::uc}), "mmio", kMmioWindow, k4G))
    return false;
  size_t n = 0;
  const core::PhysRegion* regions = mem::regions(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t base = regions[i].base & ~(kFrameSize - 1);
    uint64_t end = (regions[i].end + kFrameSize - 1) & ~(kFrameSize - 1);
    if (base == 0) base = kFrameSize;  // page 0 stays unmapped: null dereferences fault
    if (end <= base) continue;
    ept::MemType type = is_ram(regions[i].type) ? ept::MemType::wb : ept::MemType::uc;
    if (!check(t.map(base, base, end - base, {rw, type}), "identity", base, end)) return false;
  }
  if (g_bi->framebuffer.phys) {
    uint64_t fb = g_bi->framebuffer.phys & ~(kFrameSize - 1);
    uint64_t len = (uint64_t{g_bi->framebuffer.pitch_pixels} * g_bi->framebuffer.height * 4 + kFrameSize - 1) &
                   ~(kFrameSize - 1);
    if (!check(t.map(fb, fb, len, {rw, ept::MemType::wc}), "framebuffer", fb, fb + len)) return false;
  }
  return map_image(t, all_exec);
}

bool map_image(ept::HostPageTable& t, bool all_exec) {
  using ept::Perm;
  const Perm rw = all_exec ? (Perm::read | Perm::write | Perm::exec) : (Perm::read | Perm::write);
  const Perm r = all_exec ? (Perm::read | Perm::write | Perm::exec) : Perm::read;
  const Perm rx = all_exec ? (Perm::read | Perm::write | Perm::exec) : (Perm::read | Perm::exec);
  // The image, segment by segment (vmm/link.ld).
  auto va = [](char* s) { return reinterpret_cast<uint64_t>(s); };
  auto pa = [&](char* s) { return g_bi->vmm_phys_base + (va(s) - g_bi->vmm_virt_base); };
  struct Seg { char* from; char* to; Perm perm; const char* name; } segs[] = {
      {__image_start, __text_end, rx, "text"},
      {__text_end, __rodata_end, r, "rodata"},
      {__rodata_end, __image_end, rw, "data"},
  };
  for (const Seg& s : segs) {
    if (!check(t.map(va(s.from), pa(s.from), va(s.to) - va(s.from), {s.perm, ept::MemType::wb}), s.name, va(s.from),
               va(s.to)))
      return false;
  }
  return true;
}
}  // namespace

void load_pat() { cpu::wrmsr(kPatMsr, ept::kHostPatMsr); }

bool build_address_space(const boot::BootInfo& bi) {
  g_bi = &bi;
  auto* t = new (g_space_storage) ept::HostPageTable(g_frames, host_options(true));
  if (t->init() != ept::Status::ok || !populate(*t, false)) {
    LOG_ERROR("mem: cannot build the VMM's page tables: staying on the loader's");
    return false;
  }
  g_space = t;
  load_pat();
  cpu::write_cr3(t->root_phys());
  LOG_INFO("mem: own page tables active: CR3 0x%lx, %lu table pages, W^X, page 0 unmapped%s", t->root_phys(),
           t->table_pages(), t->options().page_1g ? ", 1 GiB pages" : "");
  return true;
}

bool map_partition_entry(ept::HostPageTable& t) {
  using ept::Perm;
  auto va = [](char* s) { return reinterpret_cast<uint64_t>(s); };
  auto pa = [](char* s) { return g_bi->vmm_phys_base + (reinterpret_cast<uint64_t>(s) - g_bi->vmm_virt_base); };
  struct Seg { char* from; char* to; Perm perm; const char* name; } segs[] = {
      {__partition_entry_text_start, __partition_entry_text_end, Perm::read | Perm::exec, "partition entry text"},
      {__entry_area_start, __entry_area_end, Perm::read | Perm::write, "entry area"},
  };
  for (const Seg& s : segs)
    if (!check(t.map(va(s.from), pa(s.from), va(s.to) - va(s.from), {s.perm, ept::MemType::wb}), s.name, va(s.from),
               va(s.to)))
      return false;
  return true;
}

uint64_t address_space_cr3() { return g_space ? g_space->root_phys() : cpu::read_cr3(); }
uint64_t address_space_table_pages() { return g_space ? g_space->table_pages() : 0; }

bool protect_identity(uint64_t phys, uint64_t size, Access access) {
  if (!g_space) return false;
  using ept::Perm;
  Perm p = access == Access::ReadWrite     ? (Perm::read | Perm::write)
           : access == Access::ReadExecute ? (Perm::read | Perm::exec)
                                           : Perm::read;
  uint64_t base = phys & ~(kFrameSize - 1);
  uint64_t len = ((phys + size + kFrameSize - 1) & ~(kFrameSize - 1)) - base;
  ept::Result r = g_space->protect(base, len, p);
  if (!check(r, "protect", base, base + len)) return false;
  if (r.flush) cpu::write_cr3(cpu::read_cr3());  // this CPU; others are parked (docs/boot.md)
  return true;
}

bool enter_firmware_address_space() {
  if (!g_bi) return false;
  auto* t = new (g_fw_storage) ept::HostPageTable(g_fw_frames, host_options(false));
  if (t->init() != ept::Status::ok || !populate(*t, true)) return false;
  cpu::write_cr3(t->root_phys());
  return true;
}

}  // namespace mamori::mem
