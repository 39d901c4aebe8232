// Multiboot1 header parsing: see multiboot1.hpp. Section numbers refer to
// the Multiboot Specification version 0.6.96.
#include "multiboot1.hpp"

namespace mamori::core {
namespace {

// Header field offsets, §3.1.1.
constexpr size_t kMagic = 0, kFlags = 4, kChecksum = 8, kHeaderAddr = 12, kLoadAddr = 16,
                 kLoadEndAddr = 20, kBssEndAddr = 24, kEntryAddr = 28;
constexpr size_t kFixedLength = 12;     // magic, flags, checksum
constexpr size_t kAddressLength = 32;   // through entry_addr
constexpr size_t kAlignment = 4;        // §3.1.2: longword aligned

uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

const char* describe(Multiboot1Error e) {
  switch (e) {
    case Multiboot1Error::None: return "ok";
    case Multiboot1Error::NullBuffer: return "no data (null buffer)";
    case Multiboot1Error::NotFound: return "no Multiboot header in the first 8 KiB";
    case Multiboot1Error::UnsupportedRequirement: return "Multiboot header requires a feature the VMM does not provide";
    case Multiboot1Error::HeaderTruncated: return "Multiboot address fields run past the end of the file";
    case Multiboot1Error::HeaderBeforeLoad: return "Multiboot header_addr is below load_addr";
    case Multiboot1Error::LoadOutsideFile: return "Multiboot load range lies outside the file";
    case Multiboot1Error::LoadEndBeforeStart: return "Multiboot load_end_addr is below load_addr";
    case Multiboot1Error::BssEndBeforeLoadEnd: return "Multiboot bss_end_addr is below the end of the loaded data";
    case Multiboot1Error::EntryOutsideImage: return "Multiboot entry_addr is outside the loaded image";
    case Multiboot1Error::AddressOverflow: return "Multiboot addresses wrap around 4 GiB";
  }
  return "unknown Multiboot error";
}

Multiboot1Error multiboot1_parse(const uint8_t* d, size_t size, Multiboot1Header& out,
                                 uint32_t supported_requirements) {
  out = Multiboot1Header{};
  if (d == nullptr) return Multiboot1Error::NullBuffer;
  const size_t limit = size < kMultiboot1SearchLength ? size : kMultiboot1SearchLength;
  size_t at = SIZE_MAX;
  for (size_t off = 0; off + kFixedLength <= limit; off += kAlignment) {
    const uint32_t magic = rd32(d + off + kMagic);
    // §3.1.1: magic + flags + checksum == 0 (mod 2^32).
    if (magic == kMultiboot1Magic &&
        static_cast<uint32_t>(magic + rd32(d + off + kFlags) + rd32(d + off + kChecksum)) == 0) {
      at = off;
      break;
    }
  }
  if (at == SIZE_MAX) return Multiboot1Error::NotFound;
  out.offset = at;
  out.flags = rd32(d + at + kFlags);
  // §3.1.3: requirement bits not understood (or not fulfillable) mean refuse.
  if ((out.flags & kMultiboot1RequirementMask) & ~supported_requirements)
    return Multiboot1Error::UnsupportedRequirement;
  out.has_addresses = (out.flags & kMultiboot1AddressFields) != 0;
  if (!out.has_addresses) return Multiboot1Error::None;  // ELF: see elf64.hpp

  // §3.1.2 puts the whole header in the first 8 KiB.
  if (at + kAddressLength > limit) return Multiboot1Error::HeaderTruncated;
  const uint32_t header_addr = rd32(d + at + kHeaderAddr);
  const uint32_t load_addr = rd32(d + at + kLoadAddr);
  const uint32_t load_end = rd32(d + at + kLoadEndAddr);
  const uint32_t bss_end = rd32(d + at + kBssEndAddr);
  const uint32_t entry = rd32(d + at + kEntryAddr);
  // §3.1.4: the file offset to load from is the header's offset minus
  // (header_addr - load_addr).
  if (header_addr < load_addr) return Multiboot1Error::HeaderBeforeLoad;
  const uint64_t back = header_addr - load_addr;
  if (back > at) return Multiboot1Error::LoadOutsideFile;
  out.file_offset = at - back;
  out.load_addr = load_addr;
  // load_end_addr 0: the rest of the file is loaded.
  uint64_t load_size;
  if (load_end == 0) {
    load_size = size - out.file_offset;
  } else {
    if (load_end < load_addr) return Multiboot1Error::LoadEndBeforeStart;
    load_size = load_end - load_addr;
    if (load_size > size - out.file_offset) return Multiboot1Error::LoadOutsideFile;
  }
  if (load_size > UINT32_MAX - load_addr) return Multiboot1Error::AddressOverflow;
  out.load_size = static_cast<uint32_t>(load_size);
  const uint32_t data_end = load_addr + out.load_size;
  // bss_end_addr 0: no bss.
  if (bss_end != 0 && bss_end < data_end) return Multiboot1Error::BssEndBeforeLoadEnd;
  out.bss_size = bss_end == 0 ? 0 : bss_end - data_end;
  const uint32_t image_end = data_end + out.bss_size;
  if (entry < load_addr || entry >= image_end) return Multiboot1Error::EntryOutsideImage;
  out.entry_addr = entry;
  return Multiboot1Error::None;
}

}  // namespace mamori::core
