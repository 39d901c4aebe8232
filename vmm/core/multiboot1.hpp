// Multiboot (version 1, spec 0.6.96) header of a guest kernel image.
//
// A Multiboot1 kernel carries a header in its first 8 KiB (§3.1.2). The
// header either says "load me as ELF" (then elf64.hpp makes the plan) or,
// with flag 16, gives the load addresses itself (§3.1.4, the "a.out
// kludge"): this parser validates those against the file and returns the
// plan. Untrusted input: every field is checked before it is used.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::core {

inline constexpr uint32_t kMultiboot1Magic = 0x1BADB002;           // §3.1.1
inline constexpr uint32_t kMultiboot1BootloaderMagic = 0x2BADB002; // in EAX at entry, §3.2
inline constexpr size_t kMultiboot1SearchLength = 8192;            // §3.1.2
// §3.1.3 flags.
inline constexpr uint32_t kMultiboot1PageAlignModules = 1u << 0;
inline constexpr uint32_t kMultiboot1MemoryInfo = 1u << 1;
inline constexpr uint32_t kMultiboot1VideoMode = 1u << 2;
inline constexpr uint32_t kMultiboot1AddressFields = 1u << 16;
inline constexpr uint32_t kMultiboot1RequirementMask = 0xffff;     // bits 0-15 must be understood

enum class Multiboot1Error : uint32_t {
  None = 0,
  NullBuffer,
  NotFound,               // no magic with a valid checksum, 4-byte aligned, in the first 8 KiB
  UnsupportedRequirement, // a requirement bit (0-15) the VMM cannot fulfil
  HeaderTruncated,        // flag 16 set but the address fields run past the file / 8 KiB
  HeaderBeforeLoad,       // header_addr < load_addr
  LoadOutsideFile,        // load start before the file start, or load_end beyond the file
  LoadEndBeforeStart,     // load_end_addr (non-zero) < load_addr
  BssEndBeforeLoadEnd,    // bss_end_addr (non-zero) < end of the loaded part
  EntryOutsideImage,      // entry_addr not inside [load_addr, end of image)
  AddressOverflow,        // a 32-bit address computation wraps
};

const char* describe(Multiboot1Error e);

struct Multiboot1Header {
  size_t offset;          // of the header in the file
  uint32_t flags;
  bool has_addresses;     // flag 16: the fields below are valid
  // §3.1.4, resolved into a copy plan when has_addresses:
  uint32_t load_addr;     // physical address of file byte `file_offset`
  uint64_t file_offset;
  uint32_t load_size;     // bytes copied from the file
  uint32_t bss_size;      // bytes zeroed after them
  uint32_t entry_addr;    // physical entry point (32-bit protected mode, §3.2)
};

// `supported_requirements`: requirement bits the caller fulfils (default:
// module alignment and memory information; no video mode setting).
Multiboot1Error multiboot1_parse(const uint8_t* data, size_t size, Multiboot1Header& out,
                                 uint32_t supported_requirements =
                                     kMultiboot1PageAlignModules | kMultiboot1MemoryInfo);

}  // namespace mamori::core
