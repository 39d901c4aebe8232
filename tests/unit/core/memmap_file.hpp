// Reads a memory map text file (tests/unit/core/data/memmap/*.txt), lines:
//   <EFI type name> <PhysicalStart hex> <NumberOfPages hex>
//   <shell name> <Start hex>-<End hex> <Pages hex> <Attributes hex>   (UEFI shell `memmap`)
//   expect <key> <value>
//   # comment, and the shell's "Type ..." heading
// A map printed by the loader or by the UEFI shell can be pasted as is.
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

// Type names of the EDK II shell's memmap command (ShellPkg).
inline uint32_t efi_type_from_shell_name(const std::string& n) {
  static const std::map<std::string, uint32_t> names = {
      {"Reserved", 0},  {"LoaderCode", 1}, {"LoaderData", 2}, {"BS_Code", 3},
      {"BS_Data", 4},   {"RT_Code", 5},    {"RT_Data", 6},    {"Available", 7},
      {"Unusable", 8},  {"ACPI_Recl", 9},  {"ACPI_NVS", 10},  {"MMIO", 11},
      {"MMIO_Port", 12}, {"PalCode", 13},  {"Persistent", 14}, {"Unaccepted", 15}};
  auto it = names.find(n);
  if (it == names.end()) throw std::runtime_error("unknown shell memory type " + n);
  return it->second;
}

inline MemmapFile read_memmap_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  MemmapFile f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("Type ", 0) == 0) continue;
    std::istringstream ls(line);
    std::string a, b, c;
    ls >> a >> b >> c;
    if (a == "expect") {
      f.expect[b] = std::stoull(c, nullptr, 0);
      continue;
    }
    boot::MemoryRegion r{};
    const auto dash = b.find('-');
    r.base = std::stoull(b, nullptr, 16);
    r.size = std::stoull(c, nullptr, 16) * 4096;
    if (dash != std::string::npos) {  // shell format: Start-End must agree with Pages
      if (std::stoull(b.substr(dash + 1), nullptr, 16) + 1 - r.base != r.size)
        throw std::runtime_error("inconsistent line: " + line);
      r.type = core::memory_type_from_efi(efi_type_from_shell_name(a));
    } else {
      r.type = core::memory_type_from_efi(efi_type_from_name(a));
    }
    f.regions.push_back(r);
  }
  return f;
}

}  // namespace mamori::test
