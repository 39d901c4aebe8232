// Multiboot1 header parsing (Multiboot Specification 0.6.96 §3.1).
#include <catch.hpp>

#include <string>
#include <vector>

#include "vmm/core/multiboot1.hpp"

using namespace mamori::core;

namespace {

void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Header {
  size_t at = 0x40;
  uint32_t flags = kMultiboot1AddressFields | kMultiboot1MemoryInfo;
  uint32_t header_addr = 0x100040, load_addr = 0x100000, load_end = 0x101000,
           bss_end = 0x103000, entry = 0x100080;
  size_t file_size = 0x2000;
  bool bad_checksum = false;
  std::vector<uint8_t> build() const {
    std::vector<uint8_t> b(file_size, 0);
    put32(b, at, kMultiboot1Magic);
    put32(b, at + 4, flags);
    put32(b, at + 8, static_cast<uint32_t>(0u - kMultiboot1Magic - flags) + (bad_checksum ? 1 : 0));
    if (at + 32 <= b.size()) {
      put32(b, at + 12, header_addr);
      put32(b, at + 16, load_addr);
      put32(b, at + 20, load_end);
      put32(b, at + 24, bss_end);
      put32(b, at + 28, entry);
    }
    return b;
  }
};

Multiboot1Error parse(const Header& h, Multiboot1Header& out) {
  auto b = h.build();
  return multiboot1_parse(b.data(), b.size(), out);
}

}  // namespace

TEST_CASE("a.out-kludge header yields a copy plan", "[multiboot1]") {
  Multiboot1Header m;
  REQUIRE(parse(Header{}, m) == Multiboot1Error::None);
  CHECK(m.offset == 0x40);
  CHECK(m.has_addresses);
  CHECK(m.file_offset == 0);          // header 0x40 bytes after load_addr, found at 0x40
  CHECK(m.load_addr == 0x100000);
  CHECK(m.load_size == 0x1000);
  CHECK(m.bss_size == 0x2000);
  CHECK(m.entry_addr == 0x100080);

  Header h;
  h.at = 0x1000;                      // header found 4 KiB into the file
  h.header_addr = 0x100000;           // at the load address: load from file offset 0x1000
  h.load_end = 0;                     // rest of the file
  h.bss_end = 0;                      // no bss
  h.entry = 0x100100;
  REQUIRE(parse(h, m) == Multiboot1Error::None);
  CHECK(m.file_offset == 0x1000);
  CHECK(m.load_size == 0x1000);
  CHECK(m.bss_size == 0);
}

TEST_CASE("ELF kernels: header without address fields", "[multiboot1]") {
  Header h;
  h.flags = kMultiboot1PageAlignModules | kMultiboot1MemoryInfo;
  Multiboot1Header m;
  REQUIRE(parse(h, m) == Multiboot1Error::None);
  CHECK_FALSE(m.has_addresses);
  CHECK(m.flags == h.flags);
  // Optional bits 17-31 are ignored (§3.1.3).
  h.flags |= 1u << 20;
  CHECK(parse(h, m) == Multiboot1Error::None);
}

TEST_CASE("header search: alignment, 8 KiB window, checksum", "[multiboot1]") {
  Multiboot1Header m;
  Header h;
  h.bad_checksum = true;
  CHECK(parse(h, m) == Multiboot1Error::NotFound);
  h = Header{};
  h.at = 0x42;  // not longword aligned
  h.header_addr = 0x100042;
  CHECK(parse(h, m) == Multiboot1Error::NotFound);
  h = Header{};
  h.file_size = 0x4000;
  h.at = 0x2000;  // beyond the first 8 KiB
  CHECK(parse(h, m) == Multiboot1Error::NotFound);
  h.at = 0x2000 - 12;  // magic/flags/checksum fit, address fields do not
  h.header_addr = h.load_addr + static_cast<uint32_t>(h.at);
  CHECK(parse(h, m) == Multiboot1Error::HeaderTruncated);
  h.flags = kMultiboot1MemoryInfo;  // without flag 16 the short header is fine
  CHECK(parse(h, m) == Multiboot1Error::None);
  std::vector<uint8_t> tiny = {0x02, 0xb0, 0xad, 0x1b};
  CHECK(multiboot1_parse(tiny.data(), tiny.size(), m) == Multiboot1Error::NotFound);
  CHECK(multiboot1_parse(nullptr, 10, m) == Multiboot1Error::NullBuffer);
  // A header cut by the end of a short file.
  h = Header{};
  h.file_size = 0x40 + 20;
  CHECK(parse(h, m) == Multiboot1Error::HeaderTruncated);
}

TEST_CASE("requirement bits the VMM cannot fulfil are refused", "[multiboot1]") {
  Header h;
  h.flags |= kMultiboot1VideoMode;
  Multiboot1Header m;
  CHECK(parse(h, m) == Multiboot1Error::UnsupportedRequirement);
  h.flags = kMultiboot1AddressFields | (1u << 5);  // unknown requirement bit
  CHECK(parse(h, m) == Multiboot1Error::UnsupportedRequirement);
  auto b = Header{}.build();
  CHECK(multiboot1_parse(b.data(), b.size(), m, 0) == Multiboot1Error::UnsupportedRequirement);
}

TEST_CASE("address field refusals", "[multiboot1]") {
  Multiboot1Header m;
  Header h;
  h.header_addr = 0xfffff;  // below load_addr
  CHECK(parse(h, m) == Multiboot1Error::HeaderBeforeLoad);
  h = Header{};
  h.header_addr = 0x100080;  // would load from before the file start
  CHECK(parse(h, m) == Multiboot1Error::LoadOutsideFile);
  h = Header{};
  h.load_end = 0x102001;  // beyond the 0x2000-byte file
  CHECK(parse(h, m) == Multiboot1Error::LoadOutsideFile);
  h = Header{};
  h.load_end = 0xff000;
  CHECK(parse(h, m) == Multiboot1Error::LoadEndBeforeStart);
  h = Header{};
  h.bss_end = 0x100800;
  CHECK(parse(h, m) == Multiboot1Error::BssEndBeforeLoadEnd);
  h = Header{};
  h.entry = 0x103000;  // one past bss
  CHECK(parse(h, m) == Multiboot1Error::EntryOutsideImage);
  h.entry = 0xfffff;
  CHECK(parse(h, m) == Multiboot1Error::EntryOutsideImage);
  h = Header{};
  h.load_addr = 0xfffff000;
  h.header_addr = 0xfffff040;
  h.load_end = 0;
  h.bss_end = 0;
  h.entry = 0xfffff080;
  CHECK(parse(h, m) == Multiboot1Error::AddressOverflow);  // 0x2000 bytes from 0xfffff000
}

TEST_CASE("every Multiboot error has a description", "[multiboot1]") {
  for (uint32_t i = 0; i <= static_cast<uint32_t>(Multiboot1Error::AddressOverflow); ++i)
    CHECK(std::string(describe(static_cast<Multiboot1Error>(i))) != "unknown Multiboot error");
}
