// The Linux x86 boot protocol (Documentation/arch/x86/boot.rst, protocol
// 2.15; arch/x86/boot/header.S; arch/x86/include/uapi/asm/bootparam.h):
// a bzImage (what distributions ship as /boot/vmlinuz) is a real-mode
// setup part of (setup_sects + 1) * 512 bytes followed by the
// protected-mode kernel. A boot loader that enters at the 32-bit entry
// copies the protected-mode kernel to its load address, builds a
// `boot_params` zero page (a copy of the setup header at 0x1F1 plus the
// e820 map, command line and initrd fields) and jumps there with ESI
// pointing at it (entry_state.hpp).
//
// Untrusted input: every field read from the file is checked before use.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_boot/entry_state.hpp"
#include "vmm/guest_boot/layout.hpp"

namespace mamori::vmm::guest_boot {

// Setup header offsets in the file and in boot_params (boot.rst "The Real-Mode Kernel Header").
inline constexpr size_t kSetupHeaderOffset = 0x1F1;
inline constexpr uint32_t kHdrSMagic = 0x53726448;   // "HdrS" at 0x202
inline constexpr uint16_t kBootFlag = 0xAA55;        // at 0x1FE
inline constexpr uint16_t kMinProtocol = 0x206;      // 2.06: cmdline_size, initrd_addr_max, relocatable fields
inline constexpr uint8_t kLoadedHigh = 1u << 0;      // loadflags: protected-mode code at 0x100000
inline constexpr uint8_t kCanUseHeap = 1u << 7;
inline constexpr uint16_t kXlfKernel64 = 1u << 0;
inline constexpr uint16_t kXlfCanBeLoadedAbove4G = 1u << 1;
inline constexpr uint8_t kTypeOfLoaderUndefined = 0xFF;  // "no assigned ID"
inline constexpr size_t kBootParamsSize = 4096;
inline constexpr size_t kE820MaxZeroPage = 128;      // E820_MAX_ENTRIES_ZEROPAGE

enum class LinuxError : uint32_t {
  None = 0,
  NullBuffer,
  TooSmall,              // shorter than the boot sector and the header
  NoBootFlag,            // no 0xAA55 at 0x1FE
  NoHdrS,                // no "HdrS" at 0x202: a pre-2.00 zImage or not a Linux kernel
  ProtocolTooOld,        // version < 2.06
  NotBzImage,            // LOADED_HIGH clear: a zImage loads at 0x10000, not supported
  SetupOutsideFile,      // (setup_sects + 1) * 512 beyond the file
  NoProtectedModeKernel, // nothing after the setup part
  SyssizeMismatch,       // syssize * 16 larger than the bytes after the setup part
  BadAlignment,          // relocatable with kernel_alignment not a power of two >= 4 KiB
  BadHeaderEnd,          // 0x202 + byte at 0x201 outside the file or beyond the known header
};
const char* describe(LinuxError e);

struct LinuxKernel {
  uint16_t version;          // protocol, e.g. 0x20F = 2.15
  uint8_t setup_sects;       // as in the file (0 means 4)
  uint64_t kernel_offset;    // file offset of the protected-mode kernel
  uint64_t kernel_size;      // its bytes (the rest of the file)
  uint32_t syssize;          // in 16-byte paragraphs
  uint8_t loadflags;
  uint32_t code32_start;     // load address of a non-relocatable kernel
  uint32_t kernel_alignment;
  bool relocatable;
  uint8_t min_alignment;     // log2 (2.10+)
  uint16_t xloadflags;       // 2.12+
  uint32_t cmdline_size;     // maximum length without NUL (2.06+)
  uint32_t initrd_addr_max;  // highest address the initrd may occupy (its last byte)
  uint64_t pref_address;     // 2.10+
  uint32_t init_size;        // 2.10+: bytes from the load address the kernel needs to decompress
  size_t header_end;         // file offset just past the setup header (0x202 + byte at 0x201)
  // Computed: where the protected-mode kernel goes, and what it occupies
  // while it decompresses (the kernel's `span` for the planner).
  uint64_t load_address;
  uint64_t span;
};

// Parses and checks the setup header of `data[0..size)`.
LinuxError linux_parse(const uint8_t* data, size_t size, LinuxKernel& out);

struct LinuxBootInputs {
  uint64_t cmdline_len;       // without NUL
  uint64_t initrd_size;       // 0: none (placed by the planner as module 0)
  uint64_t acpi_rsdp;         // 0: none (acpi_rsdp_addr, protocol 2.14+)
  uint64_t ram_bytes;
};

// The plan request for this kernel: its span, command line limit, the
// initrd as module 0 with the kernel's initrd_addr_max.
PlanRequest linux_plan_request(const LinuxKernel& k, const LinuxBootInputs& in);

// Writes boot_params (4096 bytes) for the placed kernel: the setup header
// copied from the file at 0x1F1 (boot.rst: "copy ... 0x0202 + byte at
// 0x0201"), then type_of_loader, loadflags (CAN_USE_HEAP clear: no
// real-mode part runs), cmd_line_ptr, ramdisk_image/size with their ext_
// high halves, acpi_rsdp_addr and the e820 table from the plan.
void linux_write_boot_params(const uint8_t* data, const LinuxKernel& k, const LinuxBootInputs& in, const Plan& p,
                             uint8_t out[kBootParamsSize]);

// Entry at the 32-bit entry point (the load address) with ESI = boot_params.
EntryState linux_entry_state(const LinuxKernel& k, uint64_t boot_params_gpa, uint64_t gdt_gpa);

}  // namespace mamori::vmm::guest_boot
