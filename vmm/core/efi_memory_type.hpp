// Translation of UEFI memory types (UEFI 2.9 §7.2, EFI_MEMORY_TYPE) into the
// VMM's boot::MemoryType, as documented in boot/bootinfo.hpp. Header-only so
// the UEFI loader uses the very same table the tests check.
#pragma once
#include <stdint.h>

#include "boot/bootinfo.hpp"

namespace mamori::core {

// EFI_MEMORY_TYPE values, UEFI 2.9 §7.2 (EFI_BOOT_SERVICES.AllocatePages).
enum class EfiMemoryType : uint32_t {
  Reserved = 0,
  LoaderCode = 1,
  LoaderData = 2,
  BootServicesCode = 3,
  BootServicesData = 4,
  RuntimeServicesCode = 5,
  RuntimeServicesData = 6,
  Conventional = 7,
  Unusable = 8,
  AcpiReclaim = 9,
  AcpiNvs = 10,
  MemoryMappedIo = 11,
  MemoryMappedIoPortSpace = 12,
  PalCode = 13,
  Persistent = 14,
  Unaccepted = 15,  // must be accepted (TDX/SEV-SNP) before use: not RAM to us
};

constexpr boot::MemoryType memory_type_from_efi(uint32_t efi_type) {
  using boot::MemoryType;
  switch (static_cast<EfiMemoryType>(efi_type)) {
    // Boot services memory is free after ExitBootServices (UEFI 2.9 §7.4).
    case EfiMemoryType::Conventional:
    case EfiMemoryType::BootServicesCode:
    case EfiMemoryType::BootServicesData:
    case EfiMemoryType::LoaderCode: return MemoryType::Usable;
    case EfiMemoryType::LoaderData: return MemoryType::Loaded;
    case EfiMemoryType::AcpiReclaim: return MemoryType::AcpiReclaim;
    case EfiMemoryType::AcpiNvs: return MemoryType::AcpiNvs;
    case EfiMemoryType::MemoryMappedIo:
    case EfiMemoryType::MemoryMappedIoPortSpace: return MemoryType::Mmio;
    case EfiMemoryType::Unusable: return MemoryType::Unusable;
    case EfiMemoryType::RuntimeServicesCode:
    case EfiMemoryType::RuntimeServicesData: return MemoryType::RuntimeServices;
    case EfiMemoryType::Persistent: return MemoryType::Persistent;
    case EfiMemoryType::Reserved:
    case EfiMemoryType::PalCode:
    case EfiMemoryType::Unaccepted: return MemoryType::Reserved;
  }
  return MemoryType::Reserved;  // OEM/OS-defined (0x70000000+) and unknown
}

}  // namespace mamori::core
