// Changes to the VMM's identity map (vmm/mem/address_space.cpp):
// W^X is kept — a page is never writable and executable at once.
#pragma once
#include <stdint.h>

namespace mamori::mem {

enum class Access : uint8_t {
  ReadOnly,
  ReadWrite,
  ReadExecute,
};

// Sets the rights of the identity-mapped range [phys, phys+size), splitting
// large pages as needed. Returns false if a table frame could not be had.
bool protect_identity(uint64_t phys, uint64_t size, Access access);

}  // namespace mamori::mem
