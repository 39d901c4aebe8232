// Host tool: runs the VMM's guest boot format code (vmm/guest_boot) on a
// real file and prints what it found as key=value lines, so that
// check_formats.py can compare them with what Debian's tools and an
// independent Python reading of the same file say.
//   inspect_boot_image FILE [RAM_MiB INITRD_BYTES CMDLINE_LEN]
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "vmm/core/elf64.hpp"
#include "vmm/guest_boot/identify.hpp"
#include "vmm/guest_boot/linux_boot.hpp"
#include "vmm/guest_boot/pvh.hpp"

using namespace mamori::vmm::guest_boot;
namespace core = mamori::core;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) return 2;
  std::vector<uint8_t> d;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) d.insert(d.end(), buf, buf + n);
  std::fclose(f);
  uint64_t ram = (argc > 2 ? std::strtoull(argv[2], nullptr, 0) : 512) << 20;
  uint64_t initrd = argc > 3 ? std::strtoull(argv[3], nullptr, 0) : 0;
  uint64_t cmdline = argc > 4 ? std::strtoull(argv[4], nullptr, 0) : 0;

  Identified id = identify(d.data(), d.size());
  std::printf("kind=%s\nmessage=%s\n", image_kind_name(id.kind), id.message);
  if (id.detail) std::printf("detail=%s\n", id.detail);
  Plan p;
  if (id.kind == ImageKind::LinuxBzImage) {
    LinuxKernel k;
    if (linux_parse(d.data(), d.size(), k) != LinuxError::None) return 1;
    std::printf("version=0x%x\nsetup_sects=%u\nkernel_offset=0x%llx\nkernel_size=0x%llx\nloadflags=0x%x\n"
                "code32_start=0x%x\nkernel_alignment=0x%x\nrelocatable=%d\nxloadflags=0x%x\ncmdline_size=0x%x\n"
                "initrd_addr_max=0x%x\npref_address=0x%llx\ninit_size=0x%x\nheader_end=0x%zx\nload_address=0x%llx\n"
                "span=0x%llx\n",
                k.version, k.setup_sects, (unsigned long long)k.kernel_offset, (unsigned long long)k.kernel_size,
                k.loadflags, k.code32_start, k.kernel_alignment, k.relocatable, k.xloadflags, k.cmdline_size,
                k.initrd_addr_max, (unsigned long long)k.pref_address, k.init_size, k.header_end,
                (unsigned long long)k.load_address, (unsigned long long)k.span);
    LinuxBootInputs in{cmdline, initrd, kAcpiBase, ram};
    PlanError e = plan(linux_plan_request(k, in), p);
    std::printf("plan=%s\n", describe(e));
    if (e != PlanError::None) return 0;
    static uint8_t bp[kBootParamsSize];
    linux_write_boot_params(d.data(), k, in, p, bp);
    std::printf("initrd_gpa=0x%llx\ne820_entries=%u\n", (unsigned long long)p.module_gpa[0], bp[0x1E8]);
    EntryState s = linux_entry_state(k, kBootInfoGpa, kGdtGpa);
    std::printf("entry=0x%x\nesi=0x%x\n", s.eip, s.esi);
  } else if (id.kind == ImageKind::PvhElf) {
    core::ElfPolicy pol;
    pol.entry_space = core::ElfEntrySpace::Physical;
    pol.max_total_memsz = kMaxRam;
    static core::ElfImage img;
    if (core::elf64_validate(d.data(), d.size(), pol, img) != core::ElfError::None) return 1;
    uint32_t entry = 0;
    if (pvh_find_entry(d.data(), d.size(), img, entry) != PvhError::None) return 1;
    std::printf("pvh_entry=0x%x\npaddr_low=0x%llx\npaddr_high=0x%llx\nsegments=%zu\n", entry,
                (unsigned long long)img.paddr_low, (unsigned long long)img.paddr_high, img.segment_count);
    PlanRequest r{};
    r.ram_bytes = ram;
    r.kernel_base = img.paddr_low;
    r.kernel_span = img.paddr_high - img.paddr_low;
    r.cmdline_len = cmdline;
    if (initrd) {
      r.module_count = 1;
      r.modules[0] = {initrd, 0};
    }
    PlanError e = plan(r, p);
    std::printf("plan=%s\n", describe(e));
    if (e == PlanError::None) std::printf("initrd_gpa=0x%llx\n", (unsigned long long)p.module_gpa[0]);
  }
  return 0;
}
