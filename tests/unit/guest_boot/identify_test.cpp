// identify(): each accepted format, and each refusal names what the file is.
#include <catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "images.hpp"
#include "vmm/guest_boot/identify.hpp"

using namespace mamori::vmm::guest_boot;

namespace {
Identified id(const std::vector<uint8_t>& b) { return identify(b.data(), b.size()); }
std::vector<uint8_t> bytes(const char* s, size_t n, size_t pad = 4096) {
  std::vector<uint8_t> b(pad, 0);
  std::memcpy(b.data(), s, n);
  return b;
}
std::string msg(const std::vector<uint8_t>& b) { return id(b).message; }
}  // namespace

TEST_CASE("accepted formats") {
  CHECK(id(mamori::test::BzImage{}.build()).kind == ImageKind::LinuxBzImage);
  CHECK(id(mamori::test::PvhElf{}.build()).kind == ImageKind::PvhElf);
  CHECK(id(mamori::test::multiboot_elf32()).kind == ImageKind::Multiboot1Elf32);
  // ELF64 with a Multiboot header in its first 8 KiB (the project's test guests).
  auto mb64 = mamori::test::ElfBuilder::typical();
  mb64.entry = 0x400100;
  auto b = mb64.build();
  const uint32_t h[3] = {0x1BADB002, 3, static_cast<uint32_t>(-(0x1BADB002u + 3u))};
  std::memcpy(&b[0x1000], h, sizeof h);
  CHECK(id(b).kind == ImageKind::Multiboot1Elf64);
  // a.out kludge header (flag 16) in a raw binary
  std::vector<uint8_t> raw(0x2000, 0x90);
  const uint32_t k[8] = {0x1BADB002, 0x10003, static_cast<uint32_t>(-(0x1BADB002u + 0x10003u)), 0x100000, 0x100000,
                         0x102000, 0x103000, 0x100020};
  std::memcpy(raw.data(), k, sizeof k);
  CHECK(id(raw).kind == ImageKind::Multiboot1Kludge);
}

TEST_CASE("refusals say what the file is and what is accepted") {
  CHECK(msg(bytes("\x1f\x8b\x08", 3)).find("a gzip file") == 0);
  CHECK(msg(bytes("\xfd" "7zXZ\0", 6)).find("an xz file") == 0);
  CHECK(msg(bytes("\x28\xb5\x2f\xfd", 4)).find("a zstd file") == 0);
  CHECK(msg(bytes("\x02\x21\x4c\x18", 4)).find("an LZ4 file") == 0);
  CHECK(msg(bytes("BZh9", 4)).find("a bzip2 file") == 0);
  CHECK(msg(bytes("070701", 6)).find("a cpio archive") == 0);
  CHECK(msg(bytes("#!/bin/sh\necho hi\n", 18, 18)) == "a text file");
  CHECK(msg(std::vector<uint8_t>{}) == "an empty file");
  std::vector<uint8_t> junk(4096);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 37 + 5);
  CHECK(msg(junk) == "a file of unknown format");

  // PE/COFF EFI application: MZ, e_lfanew, "PE\0\0", Subsystem 10.
  auto pe = bytes("MZ", 2);
  pe[0x3C] = 0x80;
  std::memcpy(&pe[0x80], "PE\0\0", 4);
  pe[0x80 + 0x5C] = 10;
  CHECK(msg(pe) == "a PE/COFF EFI application (UEFI executable)");
  pe[0x80 + 0x5C] = 3;
  CHECK(msg(pe) == "a PE/COFF (Windows) executable");

  // ELF for other machines and other ELF types.
  auto arm = mamori::test::ElfBuilder::typical();
  arm.machine = 183;
  CHECK(msg(arm.build()) == "an ELF for AArch64 (ARM64)");
  arm.machine = 40;
  CHECK(msg(arm.build()) == "an ELF for ARM");
  auto rel = mamori::test::ElfBuilder::typical();
  rel.type = 1;
  CHECK(msg(rel.build()).find("relocatable object") != std::string::npos);
  CHECK(msg(mamori::test::ElfBuilder::typical().build()).find("without a Multiboot header or a PVH entry note") !=
        std::string::npos);
  CHECK(msg(mamori::test::multiboot_elf32(0x100010, 40)) == "an ELF for ARM");

  // A Linux kernel that is not bootable says why.
  mamori::test::BzImage old;
  old.version = 0x204;
  Identified r = id(old.build());
  CHECK(r.kind == ImageKind::Refused);
  CHECK(std::string(r.message) == "a Linux kernel image mamori cannot boot");
  CHECK(std::string(r.detail).find("older than 2.06") != std::string::npos);

  // A broken PVH note is reported as such.
  mamori::test::PvhElf p;
  p.desc_high = 5;
  r = id(p.build());
  CHECK(r.kind == ImageKind::Refused);
  CHECK(std::string(r.detail).find("32-bit address") != std::string::npos);
  CHECK(std::string(kAcceptedFormats).find("bzImage") != std::string::npos);
}
