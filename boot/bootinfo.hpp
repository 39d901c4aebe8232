// BootInfo: the record the UEFI loader hands to the VMM (docs/boot.md).
//
// Versioned and self-describing: the VMM refuses a record whose magic,
// version or size it does not know, so a mismatched loader/VMM pair fails
// with a message instead of misreading memory. All pointers are physical
// addresses (the loader identity-maps low memory for the VMM's first steps).
// Shared by boot/ (GNU-EFI, -fshort-wchar) and vmm/: plain C++ layout only.
#pragma once
#include <stdint.h>

namespace mamori::boot {

inline constexpr uint64_t kBootInfoMagic = 0x4f464e49544f4f42ull;  // "BOOTINFO"
inline constexpr uint32_t kBootInfoVersion = 2;  // 2: kMaxFiles 16 -> 48

// Memory types as the VMM sees them; the loader translates the UEFI types
// (UEFI 2.9 §7.2, EFI_MEMORY_TYPE) into these.
enum class MemoryType : uint32_t {
  Usable = 1,          // EfiConventionalMemory, BootServices{Code,Data}, LoaderCode
  Reserved = 2,        // EfiReservedMemoryType, PalCode, anything unknown
  AcpiReclaim = 3,     // EfiACPIReclaimMemory (tables live here: keep until parsed)
  AcpiNvs = 4,         // EfiACPIMemoryNVS
  Mmio = 5,            // EfiMemoryMappedIO{,PortSpace}
  Unusable = 6,        // EfiUnusableMemory (errors reported by firmware)
  RuntimeServices = 7, // EfiRuntimeServices{Code,Data}: firmware still owns it
  Loaded = 8,          // EfiLoaderData: VMM image, BootInfo, loaded files, page tables
  Persistent = 9,      // EfiPersistentMemory
};

struct MemoryRegion {
  uint64_t base;       // physical, 4 KiB aligned as UEFI reports it
  uint64_t size;       // bytes
  MemoryType type;
  uint32_t efi_type;        // the UEFI EFI_MEMORY_TYPE it came from (informative)
  uint64_t efi_attributes;  // EFI_MEMORY_* attribute bits, informative
};
static_assert(sizeof(MemoryRegion) == 32);

// Files below \mamori\: the VMM, its engines, test guests, and per Linux guest a
// kernel, an initrd and Multiboot modules (docs/boot.md).
inline constexpr uint32_t kMaxFiles = 48;
inline constexpr uint32_t kFileNameLen = 64;

// A file the loader read from the boot volume (\mamori\<name>).
struct LoadedFile {
  char name[kFileNameLen];  // NUL-terminated, path below \mamori\, e.g. "vtpm-service"
  uint64_t phys;            // physical address, page aligned
  uint64_t size;            // bytes
};

struct Framebuffer {
  uint64_t phys;            // 0 if none
  uint32_t width, height, pitch_pixels;
  uint32_t format;          // EFI_GRAPHICS_PIXEL_FORMAT
};

struct BootInfo {
  uint64_t magic;           // kBootInfoMagic
  uint32_t version;         // kBootInfoVersion
  uint32_t size;            // sizeof(BootInfo) of the writer

  uint64_t memory_map;      // physical address of MemoryRegion[memory_map_count]
  uint32_t memory_map_count;
  uint32_t reserved0;

  uint64_t rsdp;            // physical address of the ACPI RSDP, 0 if none

  uint64_t vmm_phys_base;   // where the VMM image's lowest segment lives
  uint64_t vmm_phys_size;   // bytes spanned by the VMM image
  uint64_t vmm_virt_base;   // its link address (see docs/boot.md)
  uint64_t page_tables;     // physical address of the loader-built PML4

  uint64_t config;          // physical address of mamori.cfg text (NUL-terminated)
  uint64_t config_size;     // bytes, without the NUL

  LoadedFile files[kMaxFiles];
  uint32_t file_count;
  uint32_t reserved1;

  Framebuffer framebuffer;

  uint64_t tsc_at_exit_boot_services;
  char loader_version[32];

  // UEFI runtime services stay callable after ExitBootServices (UEFI 2.9
  // §8): the VMM uses ResetSystem for reboot/poweroff, identity-mapped, as
  // no SetVirtualAddressMap is done.
  uint64_t efi_system_table;
  uint64_t efi_runtime_services;
};

}  // namespace mamori::boot
