// Test support for ACPI: a sparse "physical memory" of blobs, table
// builders with correct checksums, and a loader for captured tables.
//
// Capture format (tests/unit/core/data/acpi/<platform>/, see README.md
// there): one file per blob, named <SIG>@0x<physical address hex>.bin,
// holding the raw bytes at that address; RSDP@0x....bin names the RSDP.
// An optional expect.txt holds "key value" lines checked by the test.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "vmm/core/acpi.hpp"

namespace mamori::test {

using Bytes = std::vector<uint8_t>;

struct PhysImage {
  std::map<uint64_t, Bytes> blobs;
  uint64_t rsdp = 0;

  void add(uint64_t phys, Bytes b) { blobs[phys] = std::move(b); }

  static bool read(void* ctx, uint64_t phys, void* dst, size_t len) {
    auto* self = static_cast<PhysImage*>(ctx);
    for (auto& [base, b] : self->blobs)
      if (phys >= base && phys - base <= b.size() && len <= b.size() - (phys - base)) {
        if (len) std::memcpy(dst, b.data() + (phys - base), len);
        return true;
      }
    return false;
  }
  core::AcpiReader reader() { return core::AcpiReader{&PhysImage::read, this}; }
};

inline void put(Bytes& b, size_t off, uint64_t v, int n) {
  if (b.size() < off + n) b.resize(off + n);
  for (int i = 0; i < n; ++i) b[off + i] = i < 8 ? static_cast<uint8_t>(v >> (8 * i)) : 0;
}

inline void fix_checksum(Bytes& t, size_t checksum_at, size_t len) {
  t[checksum_at] = 0;
  uint8_t s = 0;
  for (size_t i = 0; i < len; ++i) s = static_cast<uint8_t>(s + t[i]);
  t[checksum_at] = static_cast<uint8_t>(-s);
}

// A system description table: header (ACPI 6.4 §5.2.6) + body, Length and
// Checksum filled in.
inline Bytes make_table(const char* sig, const Bytes& body, uint8_t revision = 1) {
  Bytes t(36, 0);
  std::memcpy(t.data(), sig, 4);
  t[8] = revision;
  std::memcpy(t.data() + 10, "MAMORI", 6);
  std::memcpy(t.data() + 16, "TESTTBL ", 8);
  t.insert(t.end(), body.begin(), body.end());
  put(t, 4, t.size(), 4);
  fix_checksum(t, 9, t.size());
  return t;
}

inline Bytes make_rsdp(uint8_t revision, uint32_t rsdt, uint64_t xsdt) {
  Bytes r(revision >= 2 ? 36 : 20, 0);
  std::memcpy(r.data(), "RSD PTR ", 8);
  std::memcpy(r.data() + 9, "MAMORI", 6);
  r[15] = revision;
  put(r, 16, rsdt, 4);
  fix_checksum(r, 8, 20);
  if (revision >= 2) {
    put(r, 20, 36, 4);
    put(r, 24, xsdt, 8);
    fix_checksum(r, 32, 36);
  }
  return r;
}

inline Bytes make_root(bool xsdt, const std::vector<uint64_t>& entries) {
  Bytes body;
  for (uint64_t e : entries) {
    size_t at = body.size();
    put(body, at, e, xsdt ? 8 : 4);
  }
  return make_table(xsdt ? "XSDT" : "RSDT", body);
}

// MADT entry helpers (ACPI 6.4 §5.2.12).
inline Bytes madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags) {
  Bytes e = {0, 8, uid, apic_id};
  put(e, 4, flags, 4);
  return e;
}
inline Bytes madt_x2apic(uint32_t apic_id, uint32_t uid, uint32_t flags) {
  Bytes e = {9, 16, 0, 0};
  put(e, 4, apic_id, 4);
  put(e, 8, flags, 4);
  put(e, 12, uid, 4);
  return e;
}
inline Bytes madt_ioapic(uint8_t id, uint32_t addr, uint32_t gsi) {
  Bytes e = {1, 12, id, 0};
  put(e, 4, addr, 4);
  put(e, 8, gsi, 4);
  return e;
}
inline Bytes madt_override(uint8_t src, uint32_t gsi, uint16_t flags) {
  Bytes e = {2, 10, 0, src};
  put(e, 4, gsi, 4);
  put(e, 8, flags, 2);
  return e;
}
inline Bytes madt_nmi(uint8_t uid, uint16_t flags, uint8_t lint) {
  Bytes e = {4, 6, uid, 0, 0, lint};
  put(e, 3, flags, 2);
  return e;
}
inline Bytes madt_lapic_override(uint64_t addr) {
  Bytes e = {5, 12, 0, 0};
  put(e, 4, addr, 8);
  return e;
}
inline Bytes make_madt(uint32_t lapic, uint32_t flags, const std::vector<Bytes>& entries) {
  Bytes body;
  put(body, 0, lapic, 4);
  put(body, 4, flags, 4);
  for (auto& e : entries) body.insert(body.end(), e.begin(), e.end());
  return make_table("APIC", body, 5);
}

// TPM2 table (TCG ACPI Specification 1.3). with_log adds LAML/LASA.
inline Bytes make_tpm2(uint32_t start_method, uint64_t control_area, bool with_params,
                       bool with_log, uint32_t laml = 0x10000, uint64_t lasa = 0x7fb00000) {
  Bytes body;
  put(body, 0, 0, 2);       // platform class: client
  put(body, 2, 0, 2);       // reserved
  put(body, 4, control_area, 8);
  put(body, 12, start_method, 4);
  if (with_params || with_log) put(body, 16, 0, 12);
  if (with_log) {
    put(body, 28, laml, 4);
    put(body, 32, lasa, 8);
  }
  return make_table("TPM2", body, 4);
}

// Loads a capture directory (format above).
inline PhysImage load_capture(const std::filesystem::path& dir,
                              std::map<std::string, std::string>* expect = nullptr) {
  PhysImage img;
  for (auto& ent : std::filesystem::directory_iterator(dir)) {
    const std::string name = ent.path().filename().string();
    if (name == "expect.txt" && expect) {
      std::ifstream in(ent.path());
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        std::string k, v;
        ls >> k >> v;
        (*expect)[k] = v;
      }
      continue;
    }
    const auto at = name.find("@0x");
    if (at == std::string::npos || ent.path().extension() != ".bin") continue;
    const uint64_t phys = std::stoull(name.substr(at + 3), nullptr, 16);
    std::ifstream in(ent.path(), std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (name.rfind("RSDP@", 0) == 0) img.rsdp = phys;
    img.add(phys, std::move(b));
  }
  if (img.rsdp == 0) throw std::runtime_error("capture without RSDP@0x....bin: " + dir.string());
  return img;
}

}  // namespace mamori::test
