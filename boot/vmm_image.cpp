#include "vmm_image.hpp"
#include "vmm/core/elf64.hpp"

namespace mamori::loader {

namespace {
constexpr uint64_t kPage = 4096;
// -mcmodel=kernel: the VMM lives in the top 2 GiB of the address space.
constexpr uint64_t kHighHalf = 0xFFFFFFFF80000000ull;
constexpr uint64_t kMaxVmmBytes = 64ull << 20;
}  // namespace

// The VMM is linked at a fixed high-half address (docs/boot.md); the
// generic ELF validator (vmm/core/elf64) checks the file, this adds the
// loader's own policy: EXEC only, high half, W^X, bounded size.
const char* plan_vmm_image(const uint8_t* file, uint64_t size, VmmImage& out) {
  core::ElfPolicy policy;
  policy.refuse_wx = true;
  policy.check_physical_overlap = false;  // placed by the loader, p_paddr unused
  policy.min_vaddr = kHighHalf;
  policy.max_total_memsz = kMaxVmmBytes;
  static core::ElfImage img;  // large: keep it off the firmware stack
  core::ElfError e = core::elf64_validate(file, size, policy, img);
  if (e != core::ElfError::None) return core::describe(e);
  if (img.segment_count > VmmImage::kMaxSegments) return "more PT_LOAD segments than the loader places (8)";
  out.virt_base = img.vaddr_low & ~(kPage - 1);
  out.span = img.vaddr_high - out.virt_base;
  if (out.span > kMaxVmmBytes) return "segments span more than 64 MiB";
  out.entry = img.entry;
  out.segment_count = 0;
  for (size_t i = 0; i < img.segment_count; ++i) {
    const core::ElfSegment& s = img.segments[i];
    out.segments[out.segment_count++] = VmmSegment{s.vaddr, s.offset, s.filesz, s.memsz,
                                                   (s.flags & core::kElfPfW) != 0,
                                                   (s.flags & core::kElfPfX) != 0};
  }
  return nullptr;
}

}  // namespace mamori::loader
