// Reads a memory map text file (tests/unit/core/data/memmap/*.txt):
//   <EFI type name> <PhysicalStart hex> <NumberOfPages hex>
//   expect <key> <value>
// A map the loader prints on the serial console can be pasted in this form.
#pragma once
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "boot/bootinfo.hpp"
#include "vmm/core/efi_memory_type.hpp"

namespace mamori::test {

struct MemmapFile {
  std::vector<boot::MemoryRegion> regions;
  std::map<std::string, uint64_t> expect;
};

inline uint32_t efi_type_from_name(const std::string& n) {
  static const char* names[] = {"Reserved", "LoaderCode", "LoaderData", "BootServicesCode",
                                "BootServicesData", "RuntimeServicesCode", "RuntimeServicesData",
                                "Conventional", "Unusable", "AcpiReclaim", "AcpiNvs",
                                "MemoryMappedIo", "MemoryMappedIoPortSpace", "PalCode",
                                "Persistent", "Unaccepted"};
  for (uint32_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
    if (n == names[i]) return i;
  throw std::runtime_error("unknown EFI memory type " + n);
}

inline MemmapFile read_memmap_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  MemmapFile f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string a, b, c;
    ls >> a >> b >> c;
    if (a == "expect") {
      f.expect[b] = std::stoull(c, nullptr, 0);
      continue;
    }
    boot::MemoryRegion r{};
    r.base = std::stoull(b, nullptr, 16);
    r.size = std::stoull(c, nullptr, 16) * 4096;
    r.type = core::memory_type_from_efi(efi_type_from_name(a));
    f.regions.push_back(r);
  }
  return f;
}

}  // namespace mamori::test
