// Multiboot 0.6.96 information structure, as far as the test guests read it
// (§3.3 "Boot information format"). Everything is 32-bit physical; paging is
// off in the guests, so these are usable pointers.
#pragma once
#include <stdint.h>

namespace guest::multiboot {

inline constexpr uint32_t kLoaderMagic = 0x2BADB002;  // EAX at entry (§3.2)

// `flags` bits saying which fields are valid (§3.3).
inline constexpr uint32_t kInfoMemory = 1u << 0;   // mem_lower, mem_upper
inline constexpr uint32_t kInfoCmdline = 1u << 2;  // cmdline
inline constexpr uint32_t kInfoMmap = 1u << 6;     // mmap_length, mmap_addr

struct Info {
  uint32_t flags;
  uint32_t mem_lower;    // KiB below 1 MiB
  uint32_t mem_upper;    // KiB from 1 MiB to the first hole
  uint32_t boot_device;
  uint32_t cmdline;      // physical address of a NUL-terminated string
  uint32_t mods_count;
  uint32_t mods_addr;
  uint32_t syms[4];
  uint32_t mmap_length;  // bytes
  uint32_t mmap_addr;
};

// One memory map entry; `size` counts the bytes after itself, so the next
// entry is at (entry + size + 4) (§3.3, "mmap_*").
struct __attribute__((packed)) MmapEntry {
  uint32_t size;
  uint64_t base;
  uint64_t length;
  uint32_t type;
};
inline constexpr uint32_t kMmapAvailable = 1;  // type 1 = usable RAM

}  // namespace guest::multiboot
