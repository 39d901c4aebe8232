// ELF64 validator: the valid path and every refusal (gABI ELF-64).
#include <catch.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "elf_builder.hpp"
#include "vmm/core/elf64.hpp"

using namespace mamori::core;
using mamori::test::ElfBuilder;

namespace {
ElfError check(const ElfBuilder& b, const ElfPolicy& p = {}) {
  auto bytes = b.build();
  ElfImage img;
  return elf64_validate(bytes.data(), bytes.size(), p, img);
}
}  // namespace

TEST_CASE("valid static executable yields its load plan", "[elf64]") {
  auto bytes = ElfBuilder::typical().build();
  ElfImage img;
  REQUIRE(elf64_validate(bytes.data(), bytes.size(), {}, img) == ElfError::None);
  CHECK(img.type == kElfTypeExec);
  CHECK(img.entry == 0x400100);
  CHECK(img.phoff == 64);   // the program header table, for a process's AT_PHDR
  CHECK(img.phnum == 2);
  REQUIRE(img.segment_count == 2);
  CHECK(img.segments[0].vaddr == 0x400000);
  CHECK(img.segments[0].offset == 0x1000);
  CHECK(img.segments[0].filesz == 0x1000);
  CHECK(img.segments[0].flags == (kElfPfR | kElfPfX));
  CHECK(img.segments[1].memsz == 0x3000);
  CHECK(img.segments[1].filesz == 0x800);
  CHECK(img.vaddr_low == 0x400000);
  CHECK(img.vaddr_high == 0x404000);
  CHECK(img.paddr_low == 0x400000);
  CHECK(img.total_memsz == 0x4000);
  CHECK(img.wx_segment_count == 0);
  CHECK(img.bad_index == SIZE_MAX);
}

TEST_CASE("identification and header refusals", "[elf64]") {
  ElfImage img;
  CHECK(elf64_validate(nullptr, 100, {}, img) == ElfError::NullBuffer);
  auto bytes = ElfBuilder::typical().build();
  CHECK(elf64_validate(bytes.data(), 63, {}, img) == ElfError::TooSmallForHeader);
  CHECK(elf64_validate(bytes.data(), 0, {}, img) == ElfError::TooSmallForHeader);
  bytes[1] = 'X';
  CHECK(elf64_validate(bytes.data(), bytes.size(), {}, img) == ElfError::BadMagic);

  ElfBuilder b = ElfBuilder::typical();
  b.ident_class = 1;
  CHECK(check(b) == ElfError::NotElf64);
  b = ElfBuilder::typical(); b.ident_data = 2;
  CHECK(check(b) == ElfError::NotLittleEndian);
  b = ElfBuilder::typical(); b.ident_version = 0;
  CHECK(check(b) == ElfError::BadIdentVersion);
  b = ElfBuilder::typical(); b.version = 2;
  CHECK(check(b) == ElfError::BadVersion);
  b = ElfBuilder::typical(); b.machine = 3;  // EM_386
  CHECK(check(b) == ElfError::NotX86_64);
  b = ElfBuilder::typical(); b.type = 1;  // ET_REL
  CHECK(check(b) == ElfError::TypeNotAllowed);
  b = ElfBuilder::typical(); b.type = 4;  // ET_CORE
  CHECK(check(b) == ElfError::TypeNotAllowed);
  b = ElfBuilder::typical(); b.ehsize = 52;
  CHECK(check(b) == ElfError::BadHeaderSize);
  b = ElfBuilder::typical(); b.phentsize = 32;
  CHECK(check(b) == ElfError::BadPhentsize);
}

TEST_CASE("ET_DYN only with allow_dyn", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.type = kElfTypeDyn;
  CHECK(check(b) == ElfError::TypeNotAllowed);
  ElfPolicy p;
  p.allow_dyn = true;
  CHECK(check(b, p) == ElfError::None);
}

TEST_CASE("program header table bounds", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.phnum_override = 0;
  CHECK(check(b) == ElfError::NoProgramHeaders);
  {
    auto bytes = ElfBuilder::typical().build();
    std::memset(bytes.data() + 32, 0, 8);  // e_phoff = 0
    ElfImage img;
    CHECK(elf64_validate(bytes.data(), bytes.size(), {}, img) == ElfError::NoProgramHeaders);
  }
  b = ElfBuilder::typical(); b.phnum_override = 0xffff;
  CHECK(check(b) == ElfError::ExtendedPhnum);
  b = ElfBuilder::typical(); b.phnum_override = 65;
  CHECK(check(b) == ElfError::TooManyProgramHeaders);
  // Table runs past the end of the file.
  b = ElfBuilder::typical(); b.phoff = b.file_size - 56;
  CHECK(check(b) == ElfError::PhdrTableOutOfFile);
  // phoff itself beyond the file, and near 2^64 (no wrap-around accepted).
  b = ElfBuilder::typical(); b.phoff = 0x10000;
  CHECK(check(b) == ElfError::PhdrTableOutOfFile);
  b = ElfBuilder::typical(); b.phoff = UINT64_MAX - 8;
  CHECK(check(b) == ElfError::PhdrTableOutOfFile);
  ElfPolicy p;
  p.max_program_headers = 1;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::TooManyProgramHeaders);
}

TEST_CASE("segment refusals", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.phdrs.push_back({3, 4, 0x100, 0, 0, 0x10, 0x10, 1});  // PT_INTERP
  CHECK(check(b) == ElfError::InterpreterRequired);

  b = ElfBuilder::typical();
  for (auto& p : b.phdrs) p.type = 6;  // PT_PHDR only: nothing to load
  CHECK(check(b) == ElfError::NoLoadSegments);

  b = ElfBuilder::typical();
  b.phdrs[1].filesz = 0x4000;
  CHECK(check(b) == ElfError::FileszExceedsMemsz);

  b = ElfBuilder::typical();
  b.phdrs[1].filesz = 0x1001;  // 0x2000 + 0x1001 > 0x3000 file size
  b.phdrs[1].memsz = 0x2000;
  CHECK(check(b) == ElfError::SegmentOutOfFile);
  b = ElfBuilder::typical();
  b.phdrs[1].offset = UINT64_MAX - 0x10;  // offset + filesz wraps
  CHECK(check(b) == ElfError::SegmentOutOfFile);

  b = ElfBuilder::typical();
  b.phdrs[1].vaddr = UINT64_MAX - 0xfff;  // vaddr + memsz wraps
  b.phdrs[1].offset = 0x1000;
  b.phdrs[1].filesz = 0;
  CHECK(check(b) == ElfError::AddressOverflow);
  b = ElfBuilder::typical();
  b.phdrs[1].paddr = UINT64_MAX - 0x10;
  CHECK(check(b) == ElfError::AddressOverflow);

  b = ElfBuilder::typical();
  b.phdrs[1].align = 0x1800;  // not a power of two
  CHECK(check(b) == ElfError::BadAlignment);
  b = ElfBuilder::typical();
  b.phdrs[1].vaddr = 0x401100;  // vaddr mod align != offset mod align
  b.phdrs[1].paddr = 0x401100;
  CHECK(check(b) == ElfError::BadAlignment);

  b = ElfBuilder::typical();
  b.phdrs[1].memsz = 0;
  b.phdrs[1].filesz = 0;
  CHECK(check(b) == ElfError::ZeroSizeSegment);
}

TEST_CASE(".bss-only segment: offset not checked against the file", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.phdrs.push_back({1, 6, 0x5000, 0x405000, 0x405000, 0, 0x2000, 0x1000});  // offset past EOF
  auto bytes = b.build();
  ElfImage img;
  REQUIRE(elf64_validate(bytes.data(), bytes.size(), {}, img) == ElfError::None);
  CHECK(img.segment_count == 3);
  b.phdrs.back().filesz = 1;  // but with file bytes it is refused
  CHECK(check(b) == ElfError::SegmentOutOfFile);
}

TEST_CASE("bad_index names the offending program header", "[elf64]") {
  auto b = ElfBuilder::typical();
  b.phdrs[1].filesz = 0x4000;
  auto bytes = b.build();
  ElfImage img;
  REQUIRE(elf64_validate(bytes.data(), bytes.size(), {}, img) == ElfError::FileszExceedsMemsz);
  CHECK(img.bad_index == 1);
}

TEST_CASE("overlapping segments are refused", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.phdrs[1].vaddr = 0x400000 + 0x0;  // same page as text, different paddr
  b.phdrs[1].offset = 0x2000;
  CHECK(check(b) == ElfError::VirtualOverlap);

  b = ElfBuilder::typical();
  b.phdrs[1].paddr = 0x400800;  // physical overlap only
  b.phdrs[1].align = 0;
  CHECK(check(b) == ElfError::PhysicalOverlap);
  ElfPolicy p;
  p.check_physical_overlap = false;
  CHECK(check(b, p) == ElfError::None);

  // Adjacent (touching) segments are fine.
  b = ElfBuilder::typical();
  b.phdrs[1].vaddr = b.phdrs[1].paddr = 0x401000;
  CHECK(check(b) == ElfError::None);
}

TEST_CASE("address range and size policy", "[elf64]") {
  ElfPolicy p;
  p.min_vaddr = 0x401000;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::OutsideVirtualRange);
  p = {};
  p.max_vaddr = 0x403fff;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::OutsideVirtualRange);
  p.max_vaddr = 0x404000;  // exclusive end: exactly fits
  CHECK(check(ElfBuilder::typical(), p) == ElfError::None);
  p = {};
  p.min_paddr = 0x1000000;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::OutsidePhysicalRange);
  p = {};
  p.max_paddr = 0x401000;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::OutsidePhysicalRange);
  p = {};
  p.max_total_memsz = 0x3fff;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::ImageTooLarge);
  p.max_total_memsz = 0x4000;
  CHECK(check(ElfBuilder::typical(), p) == ElfError::None);
}

TEST_CASE("too many PT_LOAD segments", "[elf64]") {
  ElfBuilder b;
  b.file_size = 0x2000;
  b.entry = 0x400000;
  for (uint64_t i = 0; i < kElfMaxSegments + 1; ++i)
    b.phdrs.push_back({1, 5, 0x1000, 0x400000 + i * 0x1000, 0x400000 + i * 0x1000, 0x10, 0x10, 0x1000});
  CHECK(check(b) == ElfError::TooManyLoadSegments);
  b.phdrs.pop_back();
  CHECK(check(b) == ElfError::None);
}

TEST_CASE("entry point must be in an executable segment", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.entry = 0x401010;  // in the data segment (RW)
  CHECK(check(b) == ElfError::EntryNotExecutable);
  b.entry = 0x3fffff;
  CHECK(check(b) == ElfError::EntryNotExecutable);
  b.entry = 0x401000;  // one past the end of text
  CHECK(check(b) == ElfError::EntryNotExecutable);
  b.entry = 0x400fff;
  CHECK(check(b) == ElfError::None);

  // Multiboot-style: linked high, entered at the physical address.
  b = ElfBuilder::typical();
  b.phdrs[0].vaddr = 0xffffffff80000000ull;
  b.phdrs[1].vaddr = 0xffffffff80001000ull;
  b.entry = 0x400100;
  CHECK(check(b) == ElfError::EntryNotExecutable);
  ElfPolicy p;
  p.entry_space = ElfEntrySpace::Physical;
  CHECK(check(b, p) == ElfError::None);
}

TEST_CASE("W+X segments are reported, refused on request", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.phdrs[0].flags = kElfPfR | kElfPfW | kElfPfX;
  auto bytes = b.build();
  ElfImage img;
  REQUIRE(elf64_validate(bytes.data(), bytes.size(), {}, img) == ElfError::None);
  CHECK(img.wx_segment_count == 1);
  ElfPolicy p;
  p.refuse_wx = true;
  CHECK(elf64_validate(bytes.data(), bytes.size(), p, img) == ElfError::WritableAndExecutable);
}

TEST_CASE("non-LOAD headers are ignored", "[elf64]") {
  ElfBuilder b = ElfBuilder::typical();
  b.phdrs.push_back({0x6474e551, 6, 0, 0, 0, 0, 0, 16});  // PT_GNU_STACK
  b.phdrs.push_back({4, 4, 0xffffffff, 0, 0, 0x100000, 0x100000, 4});  // PT_NOTE out of file
  CHECK(check(b) == ElfError::None);
}

TEST_CASE("every error has a distinct description", "[elf64]") {
  for (uint32_t i = 0; i <= static_cast<uint32_t>(ElfError::ZeroSizeSegment); ++i) {
    const char* d = describe(static_cast<ElfError>(i));
    REQUIRE(d != nullptr);
    CHECK(std::strcmp(d, "unknown ELF error") != 0);
    for (uint32_t j = 0; j < i; ++j) CHECK(std::strcmp(d, describe(static_cast<ElfError>(j))) != 0);
  }
  CHECK(std::strcmp(describe(static_cast<ElfError>(999)), "unknown ELF error") == 0);
}

// Real linker output (built by tests/unit/core/CMakeLists.txt from
// data/elf/tiny.S): the validator must accept what ld produces.
namespace {
std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("real ld output: static executable", "[elf64][real]") {
  auto f = read_file(std::string(MAMORI_ELF_IMAGES) + "/static.elf");
  ElfImage img;
  REQUIRE(elf64_validate(f.data(), f.size(), {}, img) == ElfError::None);
  CHECK(img.type == kElfTypeExec);
  CHECK(img.segment_count >= 2);
  CHECK(img.wx_segment_count == 0);
  bool has_bss = false;
  for (size_t i = 0; i < img.segment_count; ++i)
    has_bss |= img.segments[i].memsz >= img.segments[i].filesz + 8192;
  CHECK(has_bss);
}

TEST_CASE("real ld output: static PIE is ET_DYN", "[elf64][real]") {
  auto f = read_file(std::string(MAMORI_ELF_IMAGES) + "/pie.elf");
  ElfImage img;
  CHECK(elf64_validate(f.data(), f.size(), {}, img) == ElfError::TypeNotAllowed);
  ElfPolicy p;
  p.allow_dyn = true;
  REQUIRE(elf64_validate(f.data(), f.size(), p, img) == ElfError::None);
  CHECK(img.type == kElfTypeDyn);
  CHECK(img.vaddr_low == 0);
}

TEST_CASE("real ld output: higher-half kernel entered at its physical address", "[elf64][real]") {
  auto f = read_file(std::string(MAMORI_ELF_IMAGES) + "/higher_half.elf");
  ElfImage img;
  ElfPolicy p;
  p.min_vaddr = 0xffffffff80000000ull;
  p.min_paddr = 0x100000;
  p.max_paddr = 0x40000000;
  CHECK(elf64_validate(f.data(), f.size(), p, img) == ElfError::EntryNotExecutable);
  p.entry_space = ElfEntrySpace::Physical;
  REQUIRE(elf64_validate(f.data(), f.size(), p, img) == ElfError::None);
  CHECK(img.entry == 0x100000);
  CHECK(img.paddr_low == 0x100000);
  CHECK(img.vaddr_low == 0xffffffff80100000ull);
  p.max_paddr = 0x100000;  // the range policy bites on real files too
  CHECK(elf64_validate(f.data(), f.size(), p, img) == ElfError::OutsidePhysicalRange);
}

TEST_CASE("real ld output: -N gives one RWX segment", "[elf64][real]") {
  auto f = read_file(std::string(MAMORI_ELF_IMAGES) + "/rwx.elf");
  ElfImage img;
  REQUIRE(elf64_validate(f.data(), f.size(), {}, img) == ElfError::None);
  CHECK(img.wx_segment_count == 1);
  ElfPolicy p;
  p.refuse_wx = true;
  CHECK(elf64_validate(f.data(), f.size(), p, img) == ElfError::WritableAndExecutable);
}

TEST_CASE("real ld output: this dynamically linked test program is refused", "[elf64][real]") {
  auto f = read_file("/proc/self/exe");
  ElfImage img;
  ElfPolicy p;
  p.allow_dyn = true;
  const ElfError e = elf64_validate(f.data(), f.size(), p, img);
  CHECK((e == ElfError::InterpreterRequired || e == ElfError::TooManyLoadSegments));
  // A truncated file is refused while the cut removes segment data, and
  // accepted once every segment's bytes are there (section headers are not
  // needed); ASan checks that no prefix is read beyond.
  auto s = read_file(std::string(MAMORI_ELF_IMAGES) + "/static.elf");
  REQUIRE(elf64_validate(s.data(), s.size(), {}, img) == ElfError::None);
  size_t data_end = 0;
  for (size_t i = 0; i < img.segment_count; ++i)
    data_end = std::max<size_t>(data_end, img.segments[i].offset + img.segments[i].filesz);
  for (size_t n = 0; n <= s.size(); ++n) {
    std::vector<uint8_t> cut(s.begin(), s.begin() + static_cast<long>(n));
    const ElfError e = elf64_validate(cut.data(), cut.size(), {}, img);
    if (n < data_end) CHECK(e != ElfError::None);
    else CHECK(e == ElfError::None);
  }
}
