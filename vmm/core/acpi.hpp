// ACPI table discovery: RSDP → XSDT (preferred) or RSDT → tables by signature.
//
// All firmware memory is reached through AcpiReader, a caller-supplied
// "read physical memory" function that refuses ranges it cannot serve (the
// VMM: outside RAM/ACPI regions of the memory map; tests: outside captured
// blobs). Every length the tables claim is checked against a limit before
// it is used, and every table's checksum is verified before it is trusted.
//
// Table contents are decoded by buffer parsers (madt.hpp, tpm2_table.hpp):
// acpi_read_table() copies a validated table into caller storage first.
//
// References: ACPI 6.4 §5.2.5 (RSDP), §5.2.6 (system description table
// header), §5.2.7 (RSDT), §5.2.8 (XSDT).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::core {

// One error enum for the ACPI parser family (acpi, madt, tpm2_table).
enum class AcpiError : uint32_t {
  None = 0,
  NoRsdp,                 // RSDP address 0
  ReadFailed,             // the reader refused a range (not memory, or not captured)
  RsdpBadSignature,       // not "RSD PTR "
  RsdpBadChecksum,        // ACPI 1.0 checksum over the first 20 bytes
  RsdpBadLength,          // revision ≥ 2 with Length < 36 or absurdly large
  RsdpBadExtendedChecksum,// checksum over Length bytes (ACPI 2.0+)
  NoRootTable,            // neither an XSDT nor an RSDT address
  RootBadSignature,       // XSDT/RSDT signature mismatch
  TableTooShort,          // Length smaller than the fixed part of the table
  TableTooLong,           // Length beyond kAcpiMaxTableLength or the buffer given
  TableAddressOverflow,   // phys + Length wraps
  TableBadChecksum,       // bytes of the table do not sum to 0
  TableBadSignature,      // buffer parser given a table of another kind
  RootBadLength,          // (Length - 36) not a multiple of the entry size
  TableNotFound,          // no table with that signature (and instance)
  BufferTooSmall,         // acpi_read_table: table longer than the caller's buffer
  MadtEntryTruncated,     // fewer than 2 bytes left for an entry header
  MadtEntryBadLength,     // entry Length < 2: would loop forever
  MadtEntryOverflows,     // entry runs past the end of the table
  MadtEntryTooShort,      // entry shorter than its type's fixed layout
  Tpm2MissingControlArea, // CRB start method but control area address 0
  Tpm2LogAreaOverflow,    // LASA + LAML wraps
  CrbBadBuffer,           // CRB control area: buffer size 0, address 0, or wraps
};

const char* describe(AcpiError e);

inline constexpr uint32_t kAcpiMaxTableLength = 16u << 20;  // DSDTs run to ~1 MiB; 16 is generous
inline constexpr size_t kAcpiHeaderLength = 36;              // §5.2.6, Table 5.4
inline constexpr size_t kAcpiRsdpV1Length = 20;              // §5.2.5.3: checksum covers these
inline constexpr size_t kAcpiRsdpV2Length = 36;

// "Read physical memory": copy [phys, phys+len) into dst, or return false.
struct AcpiReader {
  bool (*read)(void* ctx, uint64_t phys, void* dst, size_t len);
  void* ctx;
  bool operator()(uint64_t phys, void* dst, size_t len) const {
    return read != nullptr && read(ctx, phys, dst, len);
  }
};

// What the RSDP and the root table say.
struct AcpiRoot {
  uint64_t rsdp_phys;
  uint8_t revision;        // RSDP revision: 0 = ACPI 1.0, 2 = ACPI 2.0+
  char oem_id[7];          // NUL-terminated
  uint64_t rsdt_phys;      // 0 if none
  uint64_t xsdt_phys;      // 0 if none (or revision < 2)
  bool using_xsdt;         // the root in use
  uint64_t root_phys;
  uint32_t root_length;
  uint32_t entry_size;     // 8 (XSDT) or 4 (RSDT)
  uint32_t entry_count;
  AcpiError xsdt_error;    // why the XSDT was not used although present (else None)
};

// A located table, header checked (length, checksum).
struct AcpiTableRef {
  uint64_t phys;
  uint32_t length;
  char signature[5];       // NUL-terminated
  uint8_t revision;
  char oem_id[7];
  char oem_table_id[9];
};

// RSDP (v1/v2, checksums, extended checksum) → root table (XSDT preferred,
// RSDT as fallback when the XSDT is absent or broken).
AcpiError acpi_parse_rsdp(const AcpiReader& mem, uint64_t rsdp_phys, AcpiRoot& out);

// Legacy search for the RSDP when the firmware handed none over (BIOS boot;
// UEFI passes it in the configuration table, ACPI 6.4 §5.2.5.2): ACPI 6.4
// §5.2.5.1 — the first 1 KiB of the EBDA (segment at 0x40E), then
// 0xE0000..0xFFFFF, on 16-byte boundaries; the first structure whose
// signature and checksum(s) hold. NoRsdp if there is none.
AcpiError acpi_find_rsdp_legacy(const AcpiReader& mem, uint64_t* rsdp_phys);

// The index-th entry of the root table, header read and validated.
// Returns ReadFailed / Table* errors for a broken entry, so a shell listing
// can show what is wrong with each one.
AcpiError acpi_table_at(const AcpiReader& mem, const AcpiRoot& root, uint32_t index,
                        AcpiTableRef& out);

// The `instance`-th (0-based) table with `signature` (4 chars). Entries whose
// header cannot be read are skipped; a matching table with a bad length or
// checksum is an error (not skipped).
AcpiError acpi_find_table(const AcpiReader& mem, const AcpiRoot& root, const char* signature,
                          uint32_t instance, AcpiTableRef& out);

// Copies a located table into buf[0..cap) and re-checks it there.
AcpiError acpi_read_table(const AcpiReader& mem, const AcpiTableRef& ref, uint8_t* buf,
                          size_t cap);

// For buffer parsers: checks that buf holds a whole table with `signature`
// (NULL: any), at least `min_length` long, Length ≤ len, checksum 0.
AcpiError acpi_check_table(const uint8_t* buf, size_t len, const char* signature,
                           size_t min_length);

}  // namespace mamori::core
