// Fuzz the ACPI parsers two ways:
//  1. the input is a table: MADT and TPM2 buffer parsers run on it with the
//     signature, Length and checksum made right (else nearly every input
//     would stop at the checksum);
//  2. the input is physical memory at kBase with the RSDP at its start: the
//     whole chain RSDP → root → every table runs through the reader, which
//     refuses anything outside the input.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "vmm/core/acpi.hpp"
#include "vmm/core/madt.hpp"
#include "vmm/core/tpm2_table.hpp"

using namespace mamori::core;

namespace {

constexpr uint64_t kBase = 0x10000;

struct Mem {
  const uint8_t* data;
  size_t size;
};

bool read(void* ctx, uint64_t phys, void* dst, size_t len) {
  auto* m = static_cast<Mem*>(ctx);
  if (phys < kBase || phys - kBase > m->size || len > m->size - (phys - kBase)) return false;
  if (len) memcpy(dst, m->data + (phys - kBase), len);
  return true;
}

void fix(std::vector<uint8_t>& t, const char* sig) {
  memcpy(t.data(), sig, 4);
  const uint32_t len = static_cast<uint32_t>(t.size());
  memcpy(t.data() + 4, &len, 4);
  t[9] = 0;
  uint8_t s = 0;
  for (uint8_t b : t) s = static_cast<uint8_t>(s + b);
  t[9] = static_cast<uint8_t>(-s);
}

MadtInfo g_madt;  // large: keep it off the stack

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= kAcpiHeaderLength) {
    std::vector<uint8_t> t(data, data + size);
    fix(t, "APIC");
    if (madt_parse(t.data(), t.size(), g_madt) == AcpiError::None) {
      if (g_madt.cpu_count > kMadtMaxCpus || g_madt.ioapic_count > kMadtMaxIoApics) abort();
    }
    fix(t, "TPM2");
    Tpm2Info info;
    if (tpm2_parse(t.data(), t.size(), info) == AcpiError::None &&
        info.start_params_length > kTpm2MaxStartParams)
      abort();
    CrbBuffers crb;
    (void)crb_decode_control_area(data, size, crb);
  }

  Mem mem{data, size};
  AcpiReader reader{&read, &mem};
  AcpiRoot root;
  if (acpi_parse_rsdp(reader, kBase, root) != AcpiError::None) return 0;
  static uint8_t buf[64 * 1024];
  for (uint32_t i = 0; i < root.entry_count && i < 64; ++i) {
    AcpiTableRef ref;
    if (acpi_table_at(reader, root, i, ref) != AcpiError::None) continue;
    if (acpi_read_table(reader, ref, buf, sizeof buf) != AcpiError::None) continue;
    (void)madt_parse(buf, ref.length, g_madt);
    Tpm2Info info;
    (void)tpm2_parse(buf, ref.length, info);
    if (describe(AcpiError::None) == nullptr) abort();
  }
  AcpiTableRef ref;
  (void)acpi_find_table(reader, root, "APIC", 0, ref);
  return 0;
}
