// A process's memory as the VMM sees it: user pages mapped in its page
// table, reached through the VMM's identity map after a lookup.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "vmm/partition/syscall_check.hpp"
#include "ept/ept.hpp"
#include "vmm/partition/process.hpp"

namespace mamori::partition {

using syscall::kProtRead, syscall::kProtWrite, syscall::kProtExec;  // Linux PROT_*

ept::HostPageTable& page_table(Process& p);
// Backs [va, va+len) with zeroed frames where nothing is mapped yet.
bool map_user_pages(Process& p, uint64_t va, uint64_t len, uint8_t prot);
void unmap_user_pages(Process& p, uint64_t va, uint64_t len);

// Copies checked against the user bit (and the write bit for writes);
// false if any byte is not accessible to the process.
bool copy_from_user(Process& p, uint64_t va, void* dst, size_t n);
bool copy_to_user(Process& p, uint64_t va, const void* src, size_t n);
// For the loader: writes whatever the page rights say.
bool poke_user(Process& p, uint64_t va, const void* src, size_t n);

}  // namespace mamori::partition
