// Builds synthetic ELF64 images for tests and fuzz seeds: one header, a
// program header table right after it, segment data after that.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace mamori::test {

struct PhdrSpec {
  uint32_t type = 1;  // PT_LOAD
  uint32_t flags = 5; // R+X
  uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0, align = 0x1000;
};

struct ElfBuilder {
  uint8_t ident_class = 2, ident_data = 1, ident_version = 1;
  uint16_t type = 2, machine = 62, ehsize = 64, phentsize = 56;
  uint32_t version = 1;
  uint64_t entry = 0;
  uint64_t phoff = 64;
  int phnum_override = -1;
  std::vector<PhdrSpec> phdrs;
  size_t file_size = 0x3000;

  static void put(std::vector<uint8_t>& b, size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> b(file_size, 0);
    if (b.size() < 64) return b;
    b[0] = 0x7f; b[1] = 'E'; b[2] = 'L'; b[3] = 'F';
    b[4] = ident_class; b[5] = ident_data; b[6] = ident_version;
    put(b, 16, type, 2); put(b, 18, machine, 2); put(b, 20, version, 4);
    put(b, 24, entry, 8); put(b, 32, phoff, 8); put(b, 52, ehsize, 2);
    put(b, 54, phentsize, 2);
    put(b, 56, phnum_override >= 0 ? static_cast<uint64_t>(phnum_override) : phdrs.size(), 2);
    for (size_t i = 0; i < phdrs.size(); ++i) {
      if (phoff > b.size() || i * 56 + 56 > b.size() - phoff) break;
      size_t o = phoff + i * 56;
      const PhdrSpec& p = phdrs[i];
      put(b, o, p.type, 4); put(b, o + 4, p.flags, 4); put(b, o + 8, p.offset, 8);
      put(b, o + 16, p.vaddr, 8); put(b, o + 24, p.paddr, 8); put(b, o + 32, p.filesz, 8);
      put(b, o + 40, p.memsz, 8); put(b, o + 48, p.align, 8);
    }
    return b;
  }

  // A typical small static executable: text at 0x400000 (R+X), data at
  // 0x401000 (R+W) with a .bss tail.
  static ElfBuilder typical() {
    ElfBuilder e;
    e.entry = 0x400100;
    e.phdrs.push_back({1, 5, 0x1000, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000});
    e.phdrs.push_back({1, 6, 0x2000, 0x401000, 0x401000, 0x800, 0x3000, 0x1000});
    return e;
  }
};

}  // namespace mamori::test
