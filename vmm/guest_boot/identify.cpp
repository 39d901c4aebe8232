#include "vmm/guest_boot/identify.hpp"

#include "vmm/core/elf64.hpp"
#include "vmm/core/multiboot1.hpp"
#include "vmm/guest_boot/bytes.hpp"
#include "vmm/guest_boot/elf32.hpp"
#include "vmm/guest_boot/linux_boot.hpp"
#include "vmm/guest_boot/pvh.hpp"

namespace mamori::vmm::guest_boot {
namespace {

Identified refuse(const char* what, const char* detail = nullptr) { return Identified{ImageKind::Refused, what, detail}; }

bool starts(const uint8_t* d, size_t size, const char* magic, size_t n) {
  return size >= n && __builtin_memcmp(d, magic, n) == 0;
}

// gABI e_machine values a user is likely to meet.
const char* elf_machine(uint16_t m) {
  switch (m) {
    case 3: return "an ELF for i386";
    case 8: return "an ELF for MIPS";
    case 20: return "an ELF for PowerPC";
    case 21: return "an ELF for PowerPC64";
    case 22: return "an ELF for s390";
    case 40: return "an ELF for ARM";
    case 62: return "an ELF for x86-64";
    case 183: return "an ELF for AArch64 (ARM64)";
    case 243: return "an ELF for RISC-V";
    case 258: return "an ELF for LoongArch";
  }
  return "an ELF for an unknown machine";
}

Identified identify_elf(const uint8_t* d, size_t size, bool multiboot) {
  if (size < 20) return refuse("a truncated ELF file");
  uint16_t type = le16(d + 16), machine = le16(d + 18);
  if (d[5] != 1) return refuse("a big-endian ELF");
  if (d[4] == 1) {  // ELFCLASS32
    if (machine != 3) return refuse(elf_machine(machine));
    if (!multiboot)
      return refuse("an ELF32 for i386 without a Multiboot header (a 32-bit program, not a kernel mamori can boot)");
    core::ElfImage img;
    Elf32Error e = elf32_validate(d, size, 0, k4G, img);
    if (e != Elf32Error::None) return refuse("a Multiboot ELF32 kernel that is malformed", describe(e));
    return Identified{ImageKind::Multiboot1Elf32, "a Multiboot1 ELF32 kernel", nullptr};
  }
  if (d[4] != 2) return refuse("an ELF of unknown class");
  if (machine != 62) return refuse(elf_machine(machine));
  if (type == 1) return refuse("an ELF relocatable object (.o or a kernel module), not a kernel");
  if (type == 3) return refuse("an ELF shared object or position-independent program, not a kernel");
  if (type == 4) return refuse("an ELF core dump");
  core::ElfPolicy policy;
  policy.max_total_memsz = kMaxRam;
  // Loaded with paging off: Multiboot's and vmlinux's e_entry are physical.
  policy.entry_space = core::ElfEntrySpace::Physical;
  core::ElfImage img;
  core::ElfError e = core::elf64_validate(d, size, policy, img);
  if (e != core::ElfError::None) return refuse("an x86-64 ELF that is malformed", core::describe(e));
  if (multiboot) return Identified{ImageKind::Multiboot1Elf64, "a Multiboot1 ELF64 kernel", nullptr};
  uint32_t entry = 0;
  PvhError pe = pvh_find_entry(d, size, img, entry);
  if (pe == PvhError::None) return Identified{ImageKind::PvhElf, "an ELF kernel with a PVH entry", nullptr};
  if (pe != PvhError::NoNote) return refuse("an x86-64 ELF with a malformed PVH note", describe(pe));
  return refuse("an x86-64 ELF without a Multiboot header or a PVH entry note (a Linux vmlinux built without "
                "CONFIG_PVH, or a program)");
}

}  // namespace

const char* image_kind_name(ImageKind k) {
  switch (k) {
    case ImageKind::Refused: return "refused";
    case ImageKind::LinuxBzImage: return "Linux bzImage";
    case ImageKind::PvhElf: return "PVH ELF";
    case ImageKind::Multiboot1Elf64: return "Multiboot1 ELF64";
    case ImageKind::Multiboot1Elf32: return "Multiboot1 ELF32";
    case ImageKind::Multiboot1Kludge: return "Multiboot1 (load addresses)";
  }
  return "unknown";
}

Identified identify(const uint8_t* d, size_t size) {
  if (!d || size == 0) return refuse("an empty file");
  // Linux boot sector + setup header (boot.rst): decide on HdrS; report its own errors.
  if (size >= 0x206 && le16(d + 0x1FE) == kBootFlag && le32(d + 0x202) == kHdrSMagic) {
    LinuxKernel k;
    LinuxError e = linux_parse(d, size, k);
    if (e != LinuxError::None) return refuse("a Linux kernel image mamori cannot boot", describe(e));
    return Identified{ImageKind::LinuxBzImage, "a Linux bzImage", nullptr};
  }
  core::Multiboot1Header mb;
  core::Multiboot1Error me = core::multiboot1_parse(d, size, mb);
  bool multiboot = me == core::Multiboot1Error::None;
  if (starts(d, size, "\x7f" "ELF", 4)) {
    if (multiboot && mb.has_addresses)
      return Identified{ImageKind::Multiboot1Kludge, "a Multiboot1 kernel with load addresses", nullptr};
    return identify_elf(d, size, multiboot);
  }
  if (multiboot) {
    if (mb.has_addresses)
      return Identified{ImageKind::Multiboot1Kludge, "a Multiboot1 kernel with load addresses", nullptr};
    return refuse("a Multiboot1 header without load addresses in a file that is not ELF");
  }
  if (me != core::Multiboot1Error::NotFound) return refuse("a Multiboot1 kernel with a bad header", core::describe(me));
  // Refusals: say what the file is.
  if (starts(d, size, "\x1f\x8b", 2)) return refuse("a gzip file (decompress it: a vmlinux inside?)");
  if (starts(d, size, "\xfd" "7zXZ\0", 6)) return refuse("an xz file");
  if (starts(d, size, "\x28\xb5\x2f\xfd", 4)) return refuse("a zstd file");
  if (starts(d, size, "\x02\x21\x4c\x18", 4) || starts(d, size, "\x04\x22\x4d\x18", 4)) return refuse("an LZ4 file");
  if (starts(d, size, "BZh", 3)) return refuse("a bzip2 file");
  if (starts(d, size, "070701", 6) || starts(d, size, "070702", 6))
    return refuse("a cpio archive (an initramfs? give it as initrd =)");
  if (starts(d, size, "MZ", 2)) {
    // PE/COFF: e_lfanew at 0x3C, "PE\0\0", optional header Subsystem at +0x5C from the signature.
    if (size >= 0x40) {
      uint32_t pe = le32(d + 0x3C);
      if (pe <= size && size - pe >= 0x60 && __builtin_memcmp(d + pe, "PE\0\0", 4) == 0) {
        uint16_t subsystem = le16(d + pe + 0x5C);
        if (subsystem >= 10 && subsystem <= 13) return refuse("a PE/COFF EFI application (UEFI executable)");
        return refuse("a PE/COFF (Windows) executable");
      }
    }
    return refuse("a DOS MZ executable");
  }
  if (size >= 512 && le16(d + 0x1FE) == kBootFlag) return refuse("a boot sector or disk image (0xAA55 at 510, no Linux header)");
  bool text = true;
  for (size_t i = 0; i < size && i < 256; ++i)
    if (d[i] < 0x09 || (d[i] > 0x0D && d[i] < 0x20 && d[i] != 0x1B)) text = false;
  if (text) return refuse("a text file");
  return refuse("a file of unknown format");
}

}  // namespace mamori::vmm::guest_boot
