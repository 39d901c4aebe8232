// MADT decoding: see madt.hpp.
#include "madt.hpp"

#include "acpi_bytes.hpp"

namespace mamori::core {
namespace {

using namespace acpi_bytes;

// ACPI 6.4 §5.2.12 Table 5.43: fixed part of the MADT.
constexpr size_t kMadtLapicAddress = 36, kMadtFlags = 40, kMadtEntries = 44;
constexpr uint32_t kMadtPcatCompat = 1u << 0;

// Entry types (§5.2.12, Table 5.45) and the minimum Length of each layout.
enum EntryType : uint8_t {
  kLocalApic = 0,          // §5.2.12.2, Length 8
  kIoApic = 1,             // §5.2.12.3, Length 12
  kSourceOverride = 2,     // §5.2.12.5, Length 10
  kLocalApicNmi = 4,       // §5.2.12.7, Length 6
  kLapicAddressOverride = 5, // §5.2.12.8, Length 12
  kLocalX2Apic = 9,        // §5.2.12.12, Length 16
  kLocalX2ApicNmi = 10,    // §5.2.12.13, Length 12
};
constexpr uint8_t kLenLocalApic = 8, kLenIoApic = 12, kLenOverride = 10, kLenNmi = 6,
                  kLenAddrOverride = 12, kLenX2Apic = 16, kLenX2ApicNmi = 12;
constexpr size_t kEntryHeader = 2;  // Type, Length

// Local APIC Flags, §5.2.12.2 Table 5.47.
constexpr uint32_t kLapicEnabled = 1u << 0, kLapicOnlineCapable = 1u << 1;

uint8_t min_length(uint8_t type) {
  switch (type) {
    case kLocalApic: return kLenLocalApic;
    case kIoApic: return kLenIoApic;
    case kSourceOverride: return kLenOverride;
    case kLocalApicNmi: return kLenNmi;
    case kLapicAddressOverride: return kLenAddrOverride;
    case kLocalX2Apic: return kLenX2Apic;
    case kLocalX2ApicNmi: return kLenX2ApicNmi;
    default: return kEntryHeader;
  }
}

void add_cpu(MadtInfo& out, uint32_t apic_id, uint32_t uid, uint32_t flags, bool x2apic) {
  for (size_t i = 0; i < out.cpu_count; ++i)
    if (out.cpus[i].apic_id == apic_id) {
      ++out.cpu_duplicates;
      return;
    }
  if (out.cpu_count == kMadtMaxCpus) {
    ++out.cpus_dropped;
    return;
  }
  out.cpus[out.cpu_count++] = MadtCpu{apic_id, uid, (flags & kLapicEnabled) != 0,
                                      (flags & kLapicOnlineCapable) != 0, x2apic};
}

void add_nmi(MadtInfo& out, const MadtNmi& n) {
  if (out.nmi_count == kMadtMaxNmis) {
    ++out.dropped_entries;
    return;
  }
  out.nmis[out.nmi_count++] = n;
}

void decode(const uint8_t* e, MadtInfo& out) {
  switch (e[0]) {
    case kLocalApic:  // UID(1) @2, APIC ID(1) @3, Flags(4) @4
      add_cpu(out, e[3], e[2], rd32(e + 4), false);
      break;
    case kLocalX2Apic:  // Reserved(2) @2, x2APIC ID(4) @4, Flags(4) @8, UID(4) @12
      add_cpu(out, rd32(e + 4), rd32(e + 12), rd32(e + 8), true);
      break;
    case kIoApic:  // ID(1) @2, Reserved(1) @3, Address(4) @4, GSI base(4) @8
      if (out.ioapic_count == kMadtMaxIoApics) ++out.dropped_entries;
      else out.ioapics[out.ioapic_count++] = MadtIoApic{e[2], rd32(e + 4), rd32(e + 8)};
      break;
    case kSourceOverride:  // Bus(1) @2, Source(1) @3, GSI(4) @4, Flags(2) @8
      if (out.override_count == kMadtMaxOverrides) ++out.dropped_entries;
      else out.overrides[out.override_count++] = MadtOverride{e[2], e[3], rd32(e + 4), rd16(e + 8)};
      break;
    case kLocalApicNmi:  // UID(1) @2, Flags(2) @3, LINT#(1) @5
      add_nmi(out, MadtNmi{e[2] == kMadtAllProcessors8 ? kMadtAllProcessors32 : e[2],
                           rd16(e + 3), e[5], false});
      break;
    case kLocalX2ApicNmi:  // Flags(2) @2, UID(4) @4, LINT#(1) @8
      add_nmi(out, MadtNmi{rd32(e + 4), rd16(e + 2), e[8], true});
      break;
    case kLapicAddressOverride:  // Reserved(2) @2, Address(8) @4
      // §5.2.12.8: if present, used instead of the 32-bit field.
      out.lapic_address = rd64(e + 4);
      out.lapic_address_overridden = true;
      break;
    default:
      ++out.unknown_entries;
      break;
  }
}

}  // namespace

AcpiError madt_parse(const uint8_t* t, size_t len, MadtInfo& out) {
  // Field by field: `out = MadtInfo{}` may build a 6 KiB temporary on the stack.
  out.lapic_address = 0;
  out.lapic_address_overridden = false;
  out.pcat_compat = false;
  out.cpu_count = out.cpus_dropped = out.cpu_duplicates = 0;
  out.ioapic_count = out.override_count = out.nmi_count = 0;
  out.dropped_entries = out.unknown_entries = 0;
  out.bad_offset = SIZE_MAX;
  if (AcpiError e = acpi_check_table(t, len, "APIC", kMadtEntries); e != AcpiError::None)
    return e;
  const size_t length = rd32(t + 4);  // ≤ len, checked above
  out.lapic_address = rd32(t + kMadtLapicAddress);  // an override entry replaces it
  out.pcat_compat = (rd32(t + kMadtFlags) & kMadtPcatCompat) != 0;

  for (size_t off = kMadtEntries; off < length;) {
    out.bad_offset = off;
    if (length - off < kEntryHeader) return AcpiError::MadtEntryTruncated;
    const uint8_t elen = t[off + 1];
    if (elen < kEntryHeader) return AcpiError::MadtEntryBadLength;
    if (elen > length - off) return AcpiError::MadtEntryOverflows;
    if (elen < min_length(t[off])) return AcpiError::MadtEntryTooShort;
    decode(t + off, out);
    off += elen;
  }
  out.bad_offset = SIZE_MAX;
  return AcpiError::None;
}

}  // namespace mamori::core
