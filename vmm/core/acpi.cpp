// ACPI table discovery: see acpi.hpp.
#include "acpi.hpp"

#include "acpi_bytes.hpp"

namespace mamori::core {
namespace {

using namespace acpi_bytes;

// RSDP field offsets, ACPI 6.4 §5.2.5.3 Table 5.3.
constexpr size_t kRsdpOemId = 9, kRsdpRevision = 15, kRsdpRsdt = 16,
                 kRsdpLength = 20, kRsdpXsdt = 24;
constexpr uint8_t kRsdpSignature[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
constexpr uint8_t kRsdpRevisionAcpi2 = 2;
// §5.2.5.3 says Length is the whole structure (36 today); allow future
// growth but not nonsense.
constexpr uint32_t kRsdpMaxLength = 4096;

// Header offsets, §5.2.6 Table 5.4.
constexpr size_t kHdrLength = 4, kHdrRevision = 8, kHdrOemId = 10, kHdrOemTableId = 16;

constexpr size_t kChunk = 256;  // stack buffer for streaming checksums

void copy_str(char* dst, const uint8_t* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<char>(src[i]);
  dst[n] = '\0';
}

bool same_sig(const uint8_t* a, const char* sig) {
  for (size_t i = 0; i < 4; ++i)
    if (a[i] != static_cast<uint8_t>(sig[i])) return false;
  return true;
}

// Sum of the bytes in [phys, phys+len), read in chunks.
bool sum_range(const AcpiReader& mem, uint64_t phys, uint64_t len, uint8_t* sum) {
  uint8_t buf[kChunk];
  uint8_t s = 0;
  for (uint64_t off = 0; off < len;) {
    const size_t n = len - off < kChunk ? static_cast<size_t>(len - off) : kChunk;
    if (!mem(phys + off, buf, n)) return false;
    s = static_cast<uint8_t>(s + sum8(buf, n));
    off += n;
  }
  *sum = s;
  return true;
}

// Reads and validates the header of the table at `phys` (length bounds,
// checksum over the whole table). `expect` may be null.
AcpiError read_table_header(const AcpiReader& mem, uint64_t phys, const char* expect,
                            size_t min_length, AcpiTableRef& out) {
  uint8_t hdr[kAcpiHeaderLength];
  if (phys == 0 || !mem(phys, hdr, sizeof hdr)) return AcpiError::ReadFailed;
  copy_str(out.signature, hdr, 4);
  if (expect && !same_sig(hdr, expect)) return AcpiError::TableBadSignature;
  const uint32_t length = rd32(hdr + kHdrLength);
  out.phys = phys;
  out.length = length;
  out.revision = hdr[kHdrRevision];
  copy_str(out.oem_id, hdr + kHdrOemId, 6);
  copy_str(out.oem_table_id, hdr + kHdrOemTableId, 8);
  if (length < min_length) return AcpiError::TableTooShort;
  if (length > kAcpiMaxTableLength) return AcpiError::TableTooLong;
  if (phys > UINT64_MAX - length) return AcpiError::TableAddressOverflow;
  uint8_t sum;
  if (!sum_range(mem, phys, length, &sum)) return AcpiError::ReadFailed;
  if (sum != 0) return AcpiError::TableBadChecksum;
  return AcpiError::None;
}

AcpiError open_root(const AcpiReader& mem, uint64_t phys, bool xsdt, AcpiRoot& out) {
  AcpiTableRef ref{};
  AcpiError e = read_table_header(mem, phys, xsdt ? "XSDT" : "RSDT", kAcpiHeaderLength, ref);
  if (e == AcpiError::TableBadSignature) return AcpiError::RootBadSignature;
  if (e != AcpiError::None) return e;
  const uint32_t entry = xsdt ? 8 : 4;  // §5.2.8: 64-bit, §5.2.7: 32-bit addresses
  if ((ref.length - kAcpiHeaderLength) % entry != 0) return AcpiError::RootBadLength;
  out.using_xsdt = xsdt;
  out.root_phys = phys;
  out.root_length = ref.length;
  out.entry_size = entry;
  out.entry_count = static_cast<uint32_t>((ref.length - kAcpiHeaderLength) / entry);
  return AcpiError::None;
}

AcpiError root_entry(const AcpiReader& mem, const AcpiRoot& root, uint32_t index, uint64_t* phys) {
  if (index >= root.entry_count) return AcpiError::TableNotFound;
  uint8_t b[8] = {};
  if (!mem(root.root_phys + kAcpiHeaderLength + uint64_t{index} * root.entry_size, b,
           root.entry_size))
    return AcpiError::ReadFailed;
  *phys = root.entry_size == 8 ? rd64(b) : rd32(b);
  return AcpiError::None;
}

}  // namespace

const char* describe(AcpiError e) {
  switch (e) {
    case AcpiError::None: return "ok";
    case AcpiError::NoRsdp: return "no ACPI RSDP address (firmware gave none)";
    case AcpiError::ReadFailed: return "ACPI table address is not readable memory";
    case AcpiError::RsdpBadSignature: return "RSDP signature is not \"RSD PTR \"";
    case AcpiError::RsdpBadChecksum: return "RSDP checksum (first 20 bytes) is wrong";
    case AcpiError::RsdpBadLength: return "RSDP length field is invalid";
    case AcpiError::RsdpBadExtendedChecksum: return "RSDP extended checksum is wrong";
    case AcpiError::NoRootTable: return "RSDP names neither an XSDT nor an RSDT";
    case AcpiError::RootBadSignature: return "root table signature is not XSDT/RSDT";
    case AcpiError::TableTooShort: return "ACPI table length is shorter than its fixed fields";
    case AcpiError::TableTooLong: return "ACPI table length is too large";
    case AcpiError::TableAddressOverflow: return "ACPI table address plus length wraps around";
    case AcpiError::TableBadChecksum: return "ACPI table checksum is wrong";
    case AcpiError::TableBadSignature: return "ACPI table has an unexpected signature";
    case AcpiError::RootBadLength: return "root table length is not a whole number of entries";
    case AcpiError::TableNotFound: return "ACPI table not found";
    case AcpiError::BufferTooSmall: return "ACPI table larger than the buffer to copy it into";
    case AcpiError::MadtEntryTruncated: return "MADT entry header runs past the end of the table";
    case AcpiError::MadtEntryBadLength: return "MADT entry length is smaller than 2";
    case AcpiError::MadtEntryOverflows: return "MADT entry runs past the end of the table";
    case AcpiError::MadtEntryTooShort: return "MADT entry shorter than its type requires";
    case AcpiError::Tpm2MissingControlArea: return "TPM2 table: CRB start method without a control area address";
    case AcpiError::Tpm2LogAreaOverflow: return "TPM2 table: log area address plus length wraps around";
    case AcpiError::CrbBadBuffer: return "CRB control area: command/response buffer size or address invalid";
  }
  return "unknown ACPI error";
}

AcpiError acpi_parse_rsdp(const AcpiReader& mem, uint64_t rsdp_phys, AcpiRoot& out) {
  out = AcpiRoot{};
  out.rsdp_phys = rsdp_phys;
  if (rsdp_phys == 0) return AcpiError::NoRsdp;
  uint8_t r[kAcpiRsdpV2Length] = {};
  if (!mem(rsdp_phys, r, kAcpiRsdpV1Length)) return AcpiError::ReadFailed;
  for (size_t i = 0; i < sizeof kRsdpSignature; ++i)
    if (r[i] != kRsdpSignature[i]) return AcpiError::RsdpBadSignature;
  if (sum8(r, kAcpiRsdpV1Length) != 0) return AcpiError::RsdpBadChecksum;
  out.revision = r[kRsdpRevision];
  copy_str(out.oem_id, r + kRsdpOemId, 6);
  out.rsdt_phys = rd32(r + kRsdpRsdt);

  // §5.2.5.3: Length and the XSDT address exist from revision 2 on; the
  // extended checksum covers the entire structure.
  if (out.revision >= kRsdpRevisionAcpi2) {
    if (!mem(rsdp_phys, r, kAcpiRsdpV2Length)) return AcpiError::ReadFailed;
    const uint32_t length = rd32(r + kRsdpLength);
    if (length < kAcpiRsdpV2Length || length > kRsdpMaxLength ||
        rsdp_phys > UINT64_MAX - length)
      return AcpiError::RsdpBadLength;
    uint8_t sum;
    if (!sum_range(mem, rsdp_phys, length, &sum)) return AcpiError::ReadFailed;
    if (sum != 0) return AcpiError::RsdpBadExtendedChecksum;
    out.xsdt_phys = rd64(r + kRsdpXsdt);
  }

  // §5.2.8: "OSPM should use the XSDT" when present; fall back to the RSDT
  // only when the XSDT is unusable, and remember why.
  if (out.xsdt_phys != 0) {
    out.xsdt_error = open_root(mem, out.xsdt_phys, true, out);
    if (out.xsdt_error == AcpiError::None) return AcpiError::None;
    if (out.rsdt_phys == 0) return out.xsdt_error;
  }
  if (out.rsdt_phys == 0) return AcpiError::NoRootTable;
  return open_root(mem, out.rsdt_phys, false, out);
}

namespace {

// ACPI 6.4 §5.2.5.1 search areas.
constexpr uint64_t kBdaEbdaSegment = 0x40e;
constexpr uint64_t kEbdaSearchLength = 1024;
constexpr uint64_t kBiosRomStart = 0xe0000, kBiosRomEnd = 0x100000;
constexpr uint64_t kRsdpAlignment = 16;

bool rsdp_at(const AcpiReader& mem, uint64_t phys) {
  uint8_t r[kAcpiRsdpV2Length];
  if (!mem(phys, r, kAcpiRsdpV1Length)) return false;
  for (size_t i = 0; i < sizeof kRsdpSignature; ++i)
    if (r[i] != kRsdpSignature[i]) return false;
  if (sum8(r, kAcpiRsdpV1Length) != 0) return false;
  if (r[kRsdpRevision] < kRsdpRevisionAcpi2) return true;
  return mem(phys, r, kAcpiRsdpV2Length) && sum8(r, kAcpiRsdpV2Length) == 0;
}

bool scan(const AcpiReader& mem, uint64_t start, uint64_t end, uint64_t* found) {
  for (uint64_t p = start; p + kAcpiRsdpV1Length <= end; p += kRsdpAlignment)
    if (rsdp_at(mem, p)) {
      *found = p;
      return true;
    }
  return false;
}

}  // namespace

AcpiError acpi_find_rsdp_legacy(const AcpiReader& mem, uint64_t* rsdp_phys) {
  *rsdp_phys = 0;
  uint8_t seg[2];
  if (mem(kBdaEbdaSegment, seg, sizeof seg)) {
    const uint64_t ebda = uint64_t{rd16(seg)} << 4;
    if (ebda != 0 && scan(mem, ebda, ebda + kEbdaSearchLength, rsdp_phys)) return AcpiError::None;
  }
  if (scan(mem, kBiosRomStart, kBiosRomEnd, rsdp_phys)) return AcpiError::None;
  return AcpiError::NoRsdp;
}

AcpiError acpi_table_at(const AcpiReader& mem, const AcpiRoot& root, uint32_t index,
                        AcpiTableRef& out) {
  out = AcpiTableRef{};
  uint64_t phys = 0;
  if (AcpiError e = root_entry(mem, root, index, &phys); e != AcpiError::None) return e;
  return read_table_header(mem, phys, nullptr, kAcpiHeaderLength, out);
}

AcpiError acpi_find_table(const AcpiReader& mem, const AcpiRoot& root, const char* signature,
                          uint32_t instance, AcpiTableRef& out) {
  out = AcpiTableRef{};
  if (signature == nullptr) return AcpiError::TableNotFound;
  for (uint32_t i = 0; i < root.entry_count; ++i) {
    uint64_t phys = 0;
    if (root_entry(mem, root, i, &phys) != AcpiError::None) return AcpiError::ReadFailed;
    uint8_t sig[4];
    if (phys == 0 || !mem(phys, sig, sizeof sig)) continue;  // unreadable: cannot be it
    if (!same_sig(sig, signature)) continue;
    if (instance-- != 0) continue;
    return read_table_header(mem, phys, signature, kAcpiHeaderLength, out);
  }
  return AcpiError::TableNotFound;
}

AcpiError acpi_read_table(const AcpiReader& mem, const AcpiTableRef& ref, uint8_t* buf,
                          size_t cap) {
  if (ref.length < kAcpiHeaderLength) return AcpiError::TableTooShort;
  if (buf == nullptr || ref.length > cap) return AcpiError::BufferTooSmall;
  if (!mem(ref.phys, buf, ref.length)) return AcpiError::ReadFailed;
  return acpi_check_table(buf, ref.length, nullptr, kAcpiHeaderLength);
}

AcpiError acpi_check_table(const uint8_t* buf, size_t len, const char* signature,
                           size_t min_length) {
  if (buf == nullptr || len < kAcpiHeaderLength) return AcpiError::TableTooShort;
  if (signature && !same_sig(buf, signature)) return AcpiError::TableBadSignature;
  const uint32_t length = rd32(buf + kHdrLength);
  if (length < min_length || length < kAcpiHeaderLength) return AcpiError::TableTooShort;
  if (length > len || length > kAcpiMaxTableLength) return AcpiError::TableTooLong;
  if (sum8(buf, length) != 0) return AcpiError::TableBadChecksum;
  return AcpiError::None;
}

}  // namespace mamori::core
