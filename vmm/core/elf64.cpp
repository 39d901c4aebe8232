// ELF64 validation (System V gABI, ELF-64 Object File Format v1.5).
// Every field is read byte-wise little-endian from the buffer after a bounds
// check: no casts of the buffer to structs (alignment, strict aliasing) and no
// libc, so the UEFI loader can compile this file as is.
#include "elf64.hpp"

namespace mamori::core {
namespace {

// e_ident indices and values (gABI "ELF Identification").
constexpr size_t kEiMag0 = 0, kEiClass = 4, kEiData = 5, kEiVersion = 6;
constexpr uint8_t kElfMag[4] = {0x7f, 'E', 'L', 'F'};
constexpr uint8_t kElfClass64 = 2;    // ELFCLASS64
constexpr uint8_t kElfData2Lsb = 1;   // ELFDATA2LSB
constexpr uint32_t kEvCurrent = 1;    // EV_CURRENT
constexpr uint16_t kEmX86_64 = 62;    // EM_X86_64 (psABI)
constexpr uint16_t kPnXnum = 0xffff;  // PN_XNUM: real count in section 0

// Elf64_Ehdr field offsets (gABI, ELF-64 "File header").
constexpr size_t kEhdrSize = 64;
constexpr size_t kOffType = 16, kOffMachine = 18, kOffVersion = 20, kOffEntry = 24,
                 kOffPhoff = 32, kOffEhsize = 52, kOffPhentsize = 54, kOffPhnum = 56;

// Elf64_Phdr field offsets (gABI, ELF-64 "Program header table entry").
constexpr size_t kPhdrSize = 56;
constexpr size_t kPhType = 0, kPhFlags = 4, kPhOffset = 8, kPhVaddr = 16, kPhPaddr = 24,
                 kPhFilesz = 32, kPhMemsz = 40, kPhAlign = 48;
constexpr uint32_t kPtLoad = 1, kPtInterp = 3;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t rd64(const uint8_t* p) {
  return static_cast<uint64_t>(rd32(p)) | (static_cast<uint64_t>(rd32(p + 4)) << 32);
}

// [a, a+alen) and [b, b+blen) overlap; both ends known not to wrap.
bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a < b + blen && b < a + alen;
}

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

ElfError check_header(const uint8_t* d, size_t size, const ElfPolicy& policy) {
  if (size < kEhdrSize) return ElfError::TooSmallForHeader;
  for (size_t i = 0; i < 4; ++i)
    if (d[kEiMag0 + i] != kElfMag[i]) return ElfError::BadMagic;
  if (d[kEiClass] != kElfClass64) return ElfError::NotElf64;
  if (d[kEiData] != kElfData2Lsb) return ElfError::NotLittleEndian;
  if (d[kEiVersion] != kEvCurrent) return ElfError::BadIdentVersion;
  if (rd32(d + kOffVersion) != kEvCurrent) return ElfError::BadVersion;
  if (rd16(d + kOffMachine) != kEmX86_64) return ElfError::NotX86_64;
  const uint16_t type = rd16(d + kOffType);
  if (!(type == kElfTypeExec || (type == kElfTypeDyn && policy.allow_dyn)))
    return ElfError::TypeNotAllowed;
  if (rd16(d + kOffEhsize) != kEhdrSize) return ElfError::BadHeaderSize;
  if (rd16(d + kOffPhentsize) != kPhdrSize) return ElfError::BadPhentsize;
  const uint16_t phnum = rd16(d + kOffPhnum);
  const uint64_t phoff = rd64(d + kOffPhoff);
  if (phnum == kPnXnum) return ElfError::ExtendedPhnum;
  if (phnum == 0 || phoff == 0) return ElfError::NoProgramHeaders;
  if (phnum > policy.max_program_headers) return ElfError::TooManyProgramHeaders;
  const uint64_t table = static_cast<uint64_t>(phnum) * kPhdrSize;  // ≤ 0xfffe*56, no wrap
  if (phoff > size || table > size - phoff) return ElfError::PhdrTableOutOfFile;
  return ElfError::None;
}

ElfError check_segment(const ElfSegment& s, size_t size, const ElfPolicy& policy) {
  if (s.memsz == 0) return ElfError::ZeroSizeSegment;
  if (s.filesz > s.memsz) return ElfError::FileszExceedsMemsz;
  // Nothing is read for filesz 0 (a .bss-only segment): its offset only
  // matters for the alignment rule below.
  if (s.filesz != 0 && (s.offset > size || s.filesz > size - s.offset))
    return ElfError::SegmentOutOfFile;
  if (s.vaddr > UINT64_MAX - s.memsz || s.paddr > UINT64_MAX - s.memsz)
    return ElfError::AddressOverflow;
  // gABI: p_align 0 and 1 mean none; otherwise a power of two with
  // p_vaddr ≡ p_offset (mod p_align) so the file maps page by page.
  if (s.align > 1 && (!is_pow2(s.align) || (s.vaddr % s.align) != (s.offset % s.align)))
    return ElfError::BadAlignment;
  if (s.vaddr < policy.min_vaddr || s.vaddr + s.memsz > policy.max_vaddr)
    return ElfError::OutsideVirtualRange;
  if (s.paddr < policy.min_paddr || s.paddr + s.memsz > policy.max_paddr)
    return ElfError::OutsidePhysicalRange;
  if ((s.flags & (kElfPfW | kElfPfX)) == (kElfPfW | kElfPfX) && policy.refuse_wx)
    return ElfError::WritableAndExecutable;
  return ElfError::None;
}

}  // namespace

const char* describe(ElfError e) {
  switch (e) {
    case ElfError::None: return "valid ELF64 executable";
    case ElfError::NullBuffer: return "no data (null buffer)";
    case ElfError::TooSmallForHeader: return "file smaller than the 64-byte ELF64 header";
    case ElfError::BadMagic: return "not an ELF file (bad magic, expected 7f 45 4c 46)";
    case ElfError::NotElf64: return "not a 64-bit ELF (EI_CLASS is not ELFCLASS64)";
    case ElfError::NotLittleEndian: return "not little-endian (EI_DATA is not ELFDATA2LSB)";
    case ElfError::BadIdentVersion: return "unknown ELF identification version (EI_VERSION)";
    case ElfError::BadVersion: return "unknown ELF version (e_version)";
    case ElfError::NotX86_64: return "not an x86-64 ELF (e_machine is not EM_X86_64)";
    case ElfError::TypeNotAllowed: return "ELF type not allowed (expected ET_EXEC)";
    case ElfError::BadHeaderSize: return "bad ELF header size (e_ehsize is not 64)";
    case ElfError::BadPhentsize: return "bad program header entry size (e_phentsize is not 56)";
    case ElfError::NoProgramHeaders: return "no program header table";
    case ElfError::ExtendedPhnum: return "extended program header numbering (PN_XNUM) not supported";
    case ElfError::TooManyProgramHeaders: return "too many program headers";
    case ElfError::PhdrTableOutOfFile: return "program header table extends beyond the file";
    case ElfError::InterpreterRequired: return "dynamically linked (PT_INTERP): a static executable is required";
    case ElfError::NoLoadSegments: return "no loadable (PT_LOAD) segment";
    case ElfError::TooManyLoadSegments: return "too many loadable segments";
    case ElfError::FileszExceedsMemsz: return "segment file size exceeds its memory size";
    case ElfError::SegmentOutOfFile: return "segment data extends beyond the file";
    case ElfError::AddressOverflow: return "segment address range wraps around";
    case ElfError::BadAlignment: return "bad segment alignment (p_align or vaddr/offset congruence)";
    case ElfError::OutsideVirtualRange: return "segment outside the allowed virtual address range";
    case ElfError::OutsidePhysicalRange: return "segment outside the allowed physical address range";
    case ElfError::VirtualOverlap: return "two segments overlap in virtual memory";
    case ElfError::PhysicalOverlap: return "two segments overlap in physical memory";
    case ElfError::ImageTooLarge: return "image larger than allowed";
    case ElfError::EntryNotExecutable: return "entry point is not inside an executable segment";
    case ElfError::WritableAndExecutable: return "segment is both writable and executable";
    case ElfError::ZeroSizeSegment: return "loadable segment with zero memory size";
  }
  return "unknown ELF error";
}

ElfError elf64_validate(const uint8_t* d, size_t size, const ElfPolicy& policy, ElfImage& out) {
  // Field by field: no large temporary, and no implicit memset call (the
  // UEFI loader compiles this file without a C library).
  out.type = 0;
  out.entry = 0;
  out.phoff = 0;
  out.phnum = 0;
  out.segment_count = 0;
  out.wx_segment_count = 0;
  out.vaddr_low = out.vaddr_high = out.paddr_low = out.paddr_high = 0;
  out.total_memsz = 0;
  out.bad_index = SIZE_MAX;
  if (d == nullptr) return ElfError::NullBuffer;
  if (ElfError e = check_header(d, size, policy); e != ElfError::None) return e;

  out.type = rd16(d + kOffType);
  out.entry = rd64(d + kOffEntry);
  const uint16_t phnum = rd16(d + kOffPhnum);
  out.phoff = rd64(d + kOffPhoff);
  out.phnum = phnum;
  const uint8_t* table = d + out.phoff;  // bounds checked in check_header

  out.vaddr_low = out.paddr_low = UINT64_MAX;
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = table + static_cast<size_t>(i) * kPhdrSize;
    const uint32_t type = rd32(ph + kPhType);
    out.bad_index = i;
    if (type == kPtInterp) return ElfError::InterpreterRequired;
    if (type != kPtLoad) continue;
    if (out.segment_count == kElfMaxSegments) return ElfError::TooManyLoadSegments;
    ElfSegment s{rd64(ph + kPhVaddr), rd64(ph + kPhPaddr),  rd64(ph + kPhOffset),
                 rd64(ph + kPhFilesz), rd64(ph + kPhMemsz), rd64(ph + kPhAlign),
                 rd32(ph + kPhFlags)};
    if (ElfError e = check_segment(s, size, policy); e != ElfError::None) return e;
    for (size_t j = 0; j < out.segment_count; ++j) {
      const ElfSegment& o = out.segments[j];
      if (overlaps(s.vaddr, s.memsz, o.vaddr, o.memsz)) return ElfError::VirtualOverlap;
      if (policy.check_physical_overlap && overlaps(s.paddr, s.memsz, o.paddr, o.memsz))
        return ElfError::PhysicalOverlap;
    }
    // Each memsz is bounded by max_vaddr - min_vaddr only; sum with a check.
    if (s.memsz > policy.max_total_memsz - out.total_memsz) return ElfError::ImageTooLarge;
    out.total_memsz += s.memsz;
    if ((s.flags & (kElfPfW | kElfPfX)) == (kElfPfW | kElfPfX)) ++out.wx_segment_count;
    if (s.vaddr < out.vaddr_low) out.vaddr_low = s.vaddr;
    if (s.vaddr + s.memsz > out.vaddr_high) out.vaddr_high = s.vaddr + s.memsz;
    if (s.paddr < out.paddr_low) out.paddr_low = s.paddr;
    if (s.paddr + s.memsz > out.paddr_high) out.paddr_high = s.paddr + s.memsz;
    out.segments[out.segment_count++] = s;
  }
  out.bad_index = SIZE_MAX;
  if (out.segment_count == 0) return ElfError::NoLoadSegments;

  bool entry_ok = false;
  for (size_t j = 0; j < out.segment_count; ++j) {
    const ElfSegment& s = out.segments[j];
    const uint64_t base = policy.entry_space == ElfEntrySpace::Virtual ? s.vaddr : s.paddr;
    if ((s.flags & kElfPfX) && out.entry >= base && out.entry - base < s.memsz) entry_ok = true;
  }
  if (!entry_ok) return ElfError::EntryNotExecutable;
  return ElfError::None;
}

}  // namespace mamori::core
