// The guest-physical address map every guest gets, and the planner that
// places a boot image's parts (kernel, initrd/modules, command line, boot
// information) in it without overlap and produces its memory map (the
// e820 table of the Linux boot protocol, the hvm_memmap of PVH, the
// Multiboot mmap: one list, three encodings).
//
// Map (docs/guest-abi.md "Guest-physical memory map"):
//   0x00000000-0x0009FBFF  RAM (boot structures at fixed low addresses, below)
//   0x0009FC00-0x0009FFFF  reserved (where a PC's EBDA is)
//   0x000E0000-0x000FFFFF  reserved: ACPI tables, RSDP at 0xE0000 (also where
//                          the ACPI spec §5.2.5.1 legacy RSDP scan looks);
//                          the TPM event log at 0xF0000-0xFFFFF
//   0x00100000-min(RAM, 3 GiB)   RAM
//   3 GiB-4 GiB            PCI/MMIO hole: IOAPIC 0xFEC00000, TPM 0xFED40000-
//                          0xFED44FFF, local APIC 0xFEE00000 (reserved)
//   4 GiB-4 GiB+(RAM-3 GiB)  the RAM beyond 3 GiB
// Pure: no allocation; untrusted sizes (from the image and the config) are
// checked before any arithmetic that could wrap.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vmm::guest_boot {

// E820 / hvm_memmap / Multiboot mmap types agree for these values (ACPI
// 6.4 §15.1 Table 15.1 address range types; start_info.h XEN_HVM_MEMMAP_TYPE_*;
// Multiboot 0.6.96 §3.3 "1 available RAM, other: reserved").
enum class RangeType : uint32_t { Ram = 1, Reserved = 2, Acpi = 3, Nvs = 4 };

struct Range {
  uint64_t base, size;
  RangeType type;
};

inline constexpr uint64_t kLowRamEnd = 0x9FC00;        // 639 KiB of conventional memory
inline constexpr uint64_t kAcpiBase = 0xE0000;         // RSDP here, tables after it
inline constexpr uint64_t kAcpiSize = 0x20000;         // to 1 MiB
// The TCG event log of the guest's measured launch (vmm/measure, ACPI
// TPM2 LASA/LAML): the upper half of the reserved ACPI range, above the
// tables (devices/acpi kTablesMaxBytes).
inline constexpr uint64_t kTpmLogGpa = 0xF0000, kTpmLogSize = 0x10000;
static_assert(kTpmLogGpa >= kAcpiBase && kTpmLogGpa + kTpmLogSize <= kAcpiBase + kAcpiSize);
inline constexpr uint64_t kHighRamStart = 0x100000;    // 1 MiB
inline constexpr uint64_t kMmioHoleStart = 0xC0000000; // 3 GiB
inline constexpr uint64_t k4G = 0x100000000;
inline constexpr uint64_t kIoApicBase = 0xFEC00000, kIoApicSize = 0x1000;
inline constexpr uint64_t kTpmBase = 0xFED40000, kTpmSize = 0x5000;  // TCG PC Client PTP §5.4: 5 localities
inline constexpr uint64_t kLapicBase = 0xFEE00000, kLapicSize = 0x1000;
inline constexpr uint64_t kMaxRam = 64ull << 30;       // = core::kConfigMaxMemory

// Fixed low boot structures (as Firecracker places them: GDT 0x500, zero
// page 0x7000, command line 0x20000).
inline constexpr uint64_t kGdtGpa = 0x500;             // boot GDT (entry_state.hpp), 0x28 bytes
inline constexpr uint64_t kBootInfoGpa = 0x7000;       // boot_params / hvm_start_info / Multiboot info
inline constexpr uint64_t kBootInfoSize = 0x1000;
inline constexpr uint64_t kBootTablesGpa = 0x8000;     // memory map, module list
inline constexpr uint64_t kBootTablesSize = 0x8000;
inline constexpr uint64_t kModuleCmdlineGpa = 0x10000; // module command lines, NUL-terminated, packed
inline constexpr uint64_t kModuleCmdlineSize = 0x10000;
inline constexpr uint64_t kCmdlineGpa = 0x20000;       // the kernel command line
inline constexpr uint64_t kCmdlineMax = kLowRamEnd - kCmdlineGpa;  // incl. NUL (~510 KiB)
inline constexpr size_t kMaxModules = 16;
inline constexpr size_t kMaxRanges = 16;
inline constexpr uint64_t kPageSize = 0x1000;

enum class PlanError : uint32_t {
  None = 0,
  RamTooSmall,          // below 2 MiB
  RamTooLarge,          // above kMaxRam
  RamNotAligned,        // not a multiple of 2 MiB (guest RAM is 2 MiB pages)
  CmdlineTooLong,       // longer than kCmdlineMax - 1 or the kernel's cmdline_size
  TooManyModules,
  ModuleCmdlinesTooLong,// module command lines together beyond kModuleCmdlineSize
  KernelOutsideRam,     // the kernel's span is not inside RAM below 3 GiB, above 1 MiB
  NoRoomForModule,      // an initrd/module does not fit below its limit
};
const char* describe(PlanError e);

struct ModuleRequest {
  uint64_t size;          // bytes of the file
  uint64_t cmdline_len;   // without NUL (0: none)
};

struct PlanRequest {
  uint64_t ram_bytes;
  // The kernel's fixed span [kernel_base, kernel_base + kernel_span): for a
  // bzImage its load address and init_size, for an ELF the span of its
  // PT_LOAD segments' physical addresses.
  uint64_t kernel_base, kernel_span;
  uint64_t cmdline_len;       // without NUL
  uint64_t cmdline_max;       // the kernel's limit without NUL (Linux cmdline_size), 0 = kCmdlineMax - 1
  ModuleRequest modules[kMaxModules];  // for Linux: module 0 is the initrd
  size_t module_count;
  uint64_t module_max_end;    // modules must end at or below (Linux initrd_addr_max + 1); 0 = 4 GiB
  bool modules_above_4g;      // may use RAM above 4 GiB (Linux XLF_CAN_BE_LOADED_ABOVE_4G)
};

struct Plan {
  uint64_t low_ram;           // bytes of RAM below the hole (from 0)
  uint64_t high_ram;          // bytes of RAM mapped from 4 GiB
  uint64_t cmdline_gpa;       // kCmdlineGpa
  uint64_t module_gpa[kMaxModules];
  uint64_t module_cmdline_gpa[kMaxModules];  // 0 when the module has none
  size_t module_count;
  Range map[kMaxRanges];      // sorted by base, no overlaps
  size_t map_count;
  // Guest RAM in the guest-physical space: [0, low_ram) at host offset 0,
  // [4 GiB, 4 GiB + high_ram) at host offset low_ram (for the EPT).
};

// Guest RAM below the hole, and above 4 GiB, for `ram_bytes`.
uint64_t low_ram_bytes(uint64_t ram_bytes);
uint64_t high_ram_bytes(uint64_t ram_bytes);

// Where guest-physical [gpa, gpa + n) lies in the host's one contiguous
// run of `ram_bytes` of guest RAM: [0, low) at offset 0, [4 GiB, 4 GiB +
// high) at offset low (the EPT maps these two ranges; vm/guest.hpp). False
// when the span is not all inside one of them (the hole, beyond the end,
// across the 3 GiB boundary) or n == 0 would be outside.
bool ram_offset(uint64_t ram_bytes, uint64_t gpa, uint64_t n, uint64_t& offset);

// Places modules top-down (page-aligned, as high as allowed: away from the
// kernel, which decompresses upward from its load address), module command
// lines and the kernel command line in their fixed areas, and writes the
// memory map. Fails with the first rule broken.
PlanError plan(const PlanRequest& req, Plan& out);

}  // namespace mamori::vmm::guest_boot
