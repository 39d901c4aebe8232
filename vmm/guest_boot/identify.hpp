// What kind of boot image a file is: the one place that decides which
// boot format a guest's `kernel =` file is loaded with, and that refuses
// anything else with a message saying what the file is and what is
// accepted (a user who puts a gzip'ed kernel, an EFI application or an
// ARM kernel there learns that, not "not an ELF file").
//
// Order of the checks: a bzImage first (Debian's vmlinuz is also a PE/COFF
// EFI application, the EFI stub, with "MZ" at 0: the boot-sector and HdrS
// signatures decide), then ELF (a Multiboot header in the first 8 KiB
// wins over a PVH note: the kernel asked for Multiboot explicitly), then
// a Multiboot a.out-kludge header in any file, then the refusals.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vmm::guest_boot {

enum class ImageKind : uint32_t {
  Refused = 0,
  LinuxBzImage,     // Linux x86 boot protocol 2.06+ (linux_boot.hpp)
  PvhElf,           // ELF64 with XEN_ELFNOTE_PHYS32_ENTRY (pvh.hpp)
  Multiboot1Elf64,  // ELF64 x86-64 with a Multiboot1 header
  Multiboot1Elf32,  // ELF32 i386 with a Multiboot1 header (elf32.hpp)
  Multiboot1Kludge, // a Multiboot1 header with load addresses (flag 16), any file
};

struct Identified {
  ImageKind kind;
  // For Refused: "<what it is>: <what is accepted>", e.g. "a gzip file:
  // accepted are ..."; otherwise a short name of the format found.
  const char* message;
  // For Refused with a known reason a second part (e.g. the Linux or ELF
  // error), else nullptr.
  const char* detail;
};

// What every refusal says is accepted.
inline constexpr const char* kAcceptedFormats =
    "accepted are a Linux bzImage (boot protocol 2.06+), an ELF vmlinux with a PVH entry note, "
    "and Multiboot1 kernels (ELF64, ELF32 or with Multiboot load addresses)";

Identified identify(const uint8_t* data, size_t size);

const char* image_kind_name(ImageKind k);

}  // namespace mamori::vmm::guest_boot
