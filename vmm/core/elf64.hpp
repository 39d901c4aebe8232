// ELF64 executable validator and load plan.
//
// Reads an untrusted byte buffer (a file from the boot volume) and either
// refuses it with a precise ElfError or produces the list of PT_LOAD
// segments to copy. Nothing is copied here: the caller (UEFI loader for
// vmm.elf, the VMM for guest images and the vTPM service) owns memory.
//
// Dependency-free on purpose: boot/ compiles elf64.cpp directly with GNU-EFI
// flags (-fpic -fshort-wchar -mno-red-zone), so only <stdint.h>/<stddef.h>.
//
// References: System V gABI "ELF-64 Object File Format" v1.5 (header,
// program header), System V AMD64 psABI (EM_X86_64, page size).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::core {

enum class ElfError : uint32_t {
  None = 0,
  NullBuffer,               // data == nullptr
  TooSmallForHeader,        // size < sizeof(Elf64_Ehdr)
  BadMagic,                 // e_ident[EI_MAG0..3] != 0x7f 'E' 'L' 'F'
  NotElf64,                 // EI_CLASS != ELFCLASS64
  NotLittleEndian,          // EI_DATA != ELFDATA2LSB
  BadIdentVersion,          // EI_VERSION != EV_CURRENT
  BadVersion,               // e_version != EV_CURRENT
  NotX86_64,                // e_machine != EM_X86_64
  TypeNotAllowed,           // e_type not ET_EXEC (or ET_DYN when allowed)
  BadHeaderSize,            // e_ehsize != 64
  BadPhentsize,             // e_phentsize != 56
  NoProgramHeaders,         // e_phnum == 0 or e_phoff == 0
  ExtendedPhnum,            // e_phnum == PN_XNUM (0xffff): not supported
  TooManyProgramHeaders,    // e_phnum > policy.max_program_headers
  PhdrTableOutOfFile,       // e_phoff + e_phnum*56 beyond the buffer (or overflows)
  InterpreterRequired,      // PT_INTERP present: no dynamic linker here
  NoLoadSegments,           // no PT_LOAD
  TooManyLoadSegments,      // more PT_LOAD than kElfMaxSegments
  FileszExceedsMemsz,       // p_filesz > p_memsz
  SegmentOutOfFile,         // p_offset + p_filesz beyond the buffer (or overflows)
  AddressOverflow,          // p_vaddr + p_memsz or p_paddr + p_memsz wraps
  BadAlignment,             // p_align not 0/1/power of two, or vaddr != offset mod align
  OutsideVirtualRange,      // segment outside [policy.min_vaddr, policy.max_vaddr)
  OutsidePhysicalRange,     // segment outside [policy.min_paddr, policy.max_paddr)
  VirtualOverlap,           // two PT_LOAD segments overlap in virtual space
  PhysicalOverlap,          // two PT_LOAD segments overlap in physical space
  ImageTooLarge,            // sum of p_memsz > policy.max_total_memsz
  EntryNotExecutable,       // e_entry not inside a PF_X PT_LOAD segment
  WritableAndExecutable,    // a PF_W|PF_X segment while policy.refuse_wx
  ZeroSizeSegment,          // PT_LOAD with p_memsz == 0
};

const char* describe(ElfError e);

// gABI constants used by callers too.
inline constexpr uint16_t kElfTypeExec = 2;  // ET_EXEC
inline constexpr uint16_t kElfTypeDyn = 3;   // ET_DYN
inline constexpr uint32_t kElfPfX = 0x1;     // PF_X
inline constexpr uint32_t kElfPfW = 0x2;     // PF_W
inline constexpr uint32_t kElfPfR = 0x4;     // PF_R

inline constexpr size_t kElfMaxSegments = 16;

// Which address space e_entry is checked against: a linked-high VMM enters at
// a virtual address; a Multiboot1 kernel is entered with paging off, so its
// e_entry is physical (Multiboot 0.6.96 §3.1.3 with an ELF image).
enum class ElfEntrySpace : uint8_t { Virtual, Physical };

struct ElfPolicy {
  bool allow_dyn = false;             // accept ET_DYN (static-pie)
  bool refuse_wx = false;             // refuse PF_W|PF_X segments (else report)
  bool check_physical_overlap = true; // p_paddr matters (loaders that copy to p_paddr)
  ElfEntrySpace entry_space = ElfEntrySpace::Virtual;
  uint64_t min_vaddr = 0;
  uint64_t max_vaddr = UINT64_MAX;    // exclusive end; segments must end at or below
  uint64_t min_paddr = 0;
  uint64_t max_paddr = UINT64_MAX;    // exclusive end
  uint64_t max_total_memsz = 256ull << 20;
  uint16_t max_program_headers = 64;
};

struct ElfSegment {
  uint64_t vaddr;
  uint64_t paddr;
  uint64_t offset;   // in the file
  uint64_t filesz;   // bytes to copy; memsz - filesz bytes are zeroed
  uint64_t memsz;
  uint64_t align;
  uint32_t flags;    // PF_R / PF_W / PF_X
};

struct ElfImage {
  uint16_t type;               // kElfTypeExec or kElfTypeDyn
  uint64_t entry;
  uint64_t phoff;              // program header table: file offset, entry count
  uint16_t phnum;              //   (each entry is 56 bytes, checked) — AT_PHDR/AT_PHNUM for a process
  ElfSegment segments[kElfMaxSegments];
  size_t segment_count;
  size_t wx_segment_count;     // PF_W|PF_X segments (allowed unless refuse_wx)
  uint64_t vaddr_low, vaddr_high;   // span of all segments, [low, high)
  uint64_t paddr_low, paddr_high;
  uint64_t total_memsz;
  size_t bad_index;            // on error: the offending program header index, or SIZE_MAX
};

// Validates `data[0..size)` and fills `out` (on error, `out.bad_index`
// names the program header at fault where there is one).
ElfError elf64_validate(const uint8_t* data, size_t size, const ElfPolicy& policy,
                        ElfImage& out);

}  // namespace mamori::core
