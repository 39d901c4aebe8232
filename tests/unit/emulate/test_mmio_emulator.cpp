// The MMIO/string emulation driver over a synthetic guest: RAM as a byte
// vector (page tables, code and buffers in it), a memory-like device that
// logs every access, and the VMCS values as a VcpuState. Paging off and
// 4-level paging; MOV, MOVZX, MOVS, STOS; REP counts, DF = 1, the per-exit
// bound; the guest's page rights (U/S, R/W with CR0.WP, SMAP with AC) and
// the #PF they raise (SDM 3A §4.6, §4.7); elements and instructions that
// straddle a page; event delivery.
#include <catch.hpp>
#include <stdint.h>
#include <cstring>
#include <string>
#include <vector>

#include "vmm/emulate/mmio_emulator.hpp"

using namespace mamori::emulate;
using mamori::arch::Gprs;

namespace {
constexpr uint64_t kWindow = 0xFED40000, kWindowSize = 0x5000;
constexpr uint64_t kCr0Pe = 1, kCr0Wp = 1ull << 16, kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5, kCr4Smap = 1ull << 21;
constexpr uint64_t kEferLme = 1ull << 8, kEferLma = 1ull << 10;
constexpr uint64_t kDf = 1ull << 10, kAc = 1ull << 18;
constexpr uint64_t P = 1, RW = 2, US = 4;

struct Ram final : GuestRam {
  std::vector<uint8_t> b = std::vector<uint8_t>(4 << 20);
  uint64_t next_table = 0x100000;
  bool contains(uint64_t gpa, size_t n) const override { return gpa < b.size() && n <= b.size() - gpa; }
  bool read(uint64_t gpa, uint8_t* dst, size_t n) override {
    if (!contains(gpa, n)) return false;
    std::memcpy(dst, &b[gpa], n);
    return true;
  }
  bool write(uint64_t gpa, const uint8_t* src, size_t n) override {
    if (!contains(gpa, n)) return false;
    std::memcpy(&b[gpa], src, n);
    return true;
  }
  void put(uint64_t gpa, std::vector<uint8_t> bytes) { std::memcpy(&b[gpa], bytes.data(), bytes.size()); }
  uint64_t get64(uint64_t gpa) const {
    uint64_t v;
    std::memcpy(&v, &b[gpa], 8);
    return v;
  }
  void set64(uint64_t gpa, uint64_t v) { std::memcpy(&b[gpa], &v, 8); }
  uint64_t new_table() {
    uint64_t t = next_table;
    next_table += 4096;
    return t;
  }
  // 4-level paging: maps the 4 KiB page at `la` to `gpa` with `flags`
  // (every upper level P|RW|US, so the leaf decides).
  void map(uint64_t pml4, uint64_t la, uint64_t gpa, uint64_t flags) {
    uint64_t table = pml4;
    for (unsigned shift : {39u, 30u, 21u}) {
      uint64_t slot = table + ((la >> shift) & 511) * 8;
      if (!(get64(slot) & P)) set64(slot, new_table() | P | RW | US);
      table = get64(slot) & ~0xFFFull;
    }
    set64(table + ((la >> 12) & 511) * 8, gpa | flags);
  }
};

struct DevAccess {
  char kind;
  uint64_t offset;
  uint8_t size;
  uint64_t value;
};

struct Device final : MmioDevice {
  std::vector<uint8_t> regs = std::vector<uint8_t>(kWindowSize);
  std::vector<DevAccess> log;
  uint64_t mmio_read(uint64_t off, uint8_t size) override {
    uint64_t v = 0;
    std::memcpy(&v, &regs[off], size);
    log.push_back({'r', off, size, v});
    return v;
  }
  void mmio_write(uint64_t off, uint8_t size, uint64_t v) override {
    std::memcpy(&regs[off], &v, size);
    log.push_back({'w', off, size, v});
  }
};

struct Guest {
  Ram ram;
  Device dev;
  MmioWindow window{kWindow, kWindowSize, &dev, 0};
  VcpuState s;
  Gprs regs{};
  uint64_t pml4 = 0;

  // Flat 32-bit protected mode, paging off, CPL 0, code at 0x1000.
  Guest() {
    s.paging = {kCr0Pe, 0, 0, 0};
    s.cs_access_rights = 0xC09B;  // D/B = 1
    s.rip = 0x1000;
    s.rflags = 0x2;
  }
  // 64-bit mode with 4-level paging; code at linear 0x1000 (identity).
  void long_mode(uint64_t cr0_extra = 0, uint64_t cr4_extra = 0) {
    pml4 = ram.new_table();
    s.paging = {kCr0Pe | kCr0Pg | cr0_extra, pml4, kCr4Pae | cr4_extra, kEferLme | kEferLma};
    s.cs_access_rights = 0xA09B;  // L = 1
    ram.map(pml4, 0x1000, 0x1000, P | US);
  }
  void code(std::vector<uint8_t> bytes) { ram.put(0x1000, bytes); }
  Emulation run(uint64_t gpa, bool write) {
    MmioFault f;
    f.gpa = gpa;
    f.write = write;
    f.read = !write;
    return emulate_mmio(s, f, regs, ram, window);
  }
};
}  // namespace

TEST_CASE("paging off: MOV store and MOVZX load go to the device; RIP advances") {
  Guest g;
  g.code({0x89, 0x03});  // mov %eax, (%ebx)
  g.regs.rax = 0x12345678;
  g.regs.rbx = kWindow + 0x18;
  Emulation r = g.run(kWindow + 0x18, true);
  REQUIRE(r.outcome == Outcome::Done);
  CHECK(r.rip == 0x1002);
  REQUIRE(g.dev.log.size() == 1);
  CHECK(g.dev.log[0].kind == 'w');
  CHECK(g.dev.log[0].offset == 0x18);
  CHECK(g.dev.log[0].size == 4);
  CHECK(g.dev.log[0].value == 0x12345678);

  g.code({0x0F, 0xB6, 0x03});  // movzbl (%ebx), %eax
  g.dev.regs[0x18] = 0xA5;
  g.regs.rax = 0xFFFFFFFFFFFFFFFFull;
  r = g.run(kWindow + 0x18, false);
  REQUIRE(r.outcome == Outcome::Done);
  CHECK(r.rip == 0x1003);
  CHECK(g.regs.rax == 0xA5);
  CHECK(g.window.accesses == 2);
}

TEST_CASE("a single access running past the end of the region stops the guest, the device untouched") {
  Guest g;
  g.code({0x89, 0x03});  // mov %eax, (%ebx): 4 bytes at the window's last 2
  g.regs.rbx = kWindow + kWindowSize - 2;
  Emulation r = g.run(kWindow + kWindowSize - 2, true);
  CHECK(r.outcome == Outcome::Stop);
  CHECK(r.stop == StopReason::PastWindowEnd);
  CHECK(g.dev.log.empty());
  g.code({0x8B, 0x03});  // mov (%ebx), %eax
  g.regs.rbx = kWindow + kWindowSize - 1;
  r = g.run(kWindow + kWindowSize - 1, false);
  CHECK(r.stop == StopReason::PastWindowEnd);
  CHECK(g.dev.log.empty());
  g.regs.rbx = kWindow + kWindowSize - 4;  // the last 4 bytes exactly: fine
  r = g.run(kWindow + kWindowSize - 4, false);
  CHECK(r.outcome == Outcome::Done);
  CHECK(g.dev.log.size() == 1);
}

TEST_CASE("a decoded access that cannot have faulted this way is retried; an unknown one is #UD") {
  Guest g;
  g.code({0x89, 0x03});  // a store, but the fault says read
  g.regs.rbx = kWindow;
  CHECK(g.run(kWindow, false).outcome == Outcome::Retry);
  CHECK(g.dev.log.empty());
  g.code({0x01, 0x03});  // add %eax, (%ebx): not emulated
  Emulation r = g.run(kWindow, true);
  REQUIRE(r.outcome == Outcome::Inject);
  CHECK(r.undecodable);
  CHECK(r.event.vector == kVectorUd);
  CHECK_FALSE(r.event.has_error_code);
}

TEST_CASE("REP MOVSB RAM to MMIO: every element, registers and RIP as after the instruction") {
  Guest g;
  g.code({0xF3, 0xA4});  // rep movsb
  g.ram.put(0x2000, {1, 2, 3, 4, 5});
  g.regs.rsi = 0x2000;
  g.regs.rdi = kWindow + 0x24;
  g.regs.rcx = 5;
  Emulation r = g.run(kWindow + 0x24, true);
  REQUIRE(r.outcome == Outcome::Done);
  CHECK(r.rip == 0x1002);
  CHECK(r.elements == 5);
  CHECK(g.regs.rcx == 0);
  CHECK(g.regs.rsi == 0x2005);
  CHECK(g.regs.rdi == kWindow + 0x29);
  REQUIRE(g.dev.log.size() == 5);
  for (unsigned i = 0; i < 5; ++i) {
    CHECK(g.dev.log[i].offset == 0x24 + i);
    CHECK(g.dev.log[i].value == i + 1);
  }
}

TEST_CASE("REP MOVSD MMIO to RAM and REP STOSD with DF = 1 walk backwards") {
  Guest g;
  g.code({0xF3, 0xA5});  // rep movsl
  for (unsigned i = 0; i < 12; ++i) g.dev.regs[0x100 + i] = static_cast<uint8_t>(0x10 + i);
  g.regs.rsi = kWindow + 0x100;
  g.regs.rdi = 0x3000;
  g.regs.rcx = 3;
  Emulation r = g.run(kWindow + 0x100, false);
  REQUIRE(r.outcome == Outcome::Done);
  CHECK(std::memcmp(&g.ram.b[0x3000], &g.dev.regs[0x100], 12) == 0);

  g.dev.log.clear();
  g.code({0xF3, 0xAB});  // rep stosl
  g.s.rflags |= kDf;
  g.regs.rax = 0xAABBCCDD;
  g.regs.rdi = kWindow + 0x10;
  g.regs.rcx = 3;
  r = g.run(kWindow + 0x10, true);
  REQUIRE(r.outcome == Outcome::Done);
  REQUIRE(g.dev.log.size() == 3);
  CHECK(g.dev.log[0].offset == 0x10);
  CHECK(g.dev.log[1].offset == 0x0C);
  CHECK(g.dev.log[2].offset == 0x08);
  CHECK(g.dev.log[2].value == 0xAABBCCDD);
  CHECK(g.regs.rdi == kWindow + 0x04);
  CHECK(g.regs.rcx == 0);
}

TEST_CASE("huge REP counts are bounded per exit and resume where they stopped") {
  Guest g;
  g.long_mode();
  g.ram.map(g.pml4, 0x400000, 0x200000, P | RW);
  for (uint64_t i = 0; i < 5; ++i) g.ram.map(g.pml4, 0x800000 + i * 4096, kWindow + i * 4096, P | RW);
  g.code({0xF3, 0xAA});  // rep stosb
  g.regs.rdi = 0x800000;
  g.regs.rcx = ~0ull;  // a wrapping count: 2^64 - 1 elements
  Emulation r = g.run(kWindow, true);
  REQUIRE(r.outcome == Outcome::Partial);
  CHECK(r.rip == 0x1000);  // re-executed
  CHECK(r.elements == kMaxStringElementsPerExit);
  CHECK(g.regs.rcx == ~0ull - kMaxStringElementsPerExit);
  CHECK(g.regs.rdi == 0x800000 + kMaxStringElementsPerExit);
  r = g.run(kWindow + kMaxStringElementsPerExit, true);
  REQUIRE(r.outcome == Outcome::Partial);
  CHECK(g.regs.rdi == 0x800000 + 2 * kMaxStringElementsPerExit);
  // 16-bit addresses wrap at 64 KiB (SDM 2 STOS: DI), counts are CX.
  Guest h;
  h.s.cs_access_rights = 0x809B;  // 16-bit protected mode
  h.code({0xF3, 0xAA});
  h.s.segment_base[0] = kWindow;  // ES
  h.regs.rdi = 0xFFFE;
  h.regs.rcx = 0xFFFF'0004;  // CX = 4
  r = h.run(kWindow + 0xFFFE, true);
  // 0xFFFE, 0xFFFF are outside the 0x5000-byte window: nothing to do here.
  CHECK(r.outcome == Outcome::Stop);
  CHECK(r.stop == StopReason::NoProgress);
  h.regs.rdi = 0x4FFE;
  r = h.run(kWindow + 0x4FFE, true);
  REQUIRE(r.outcome == Outcome::Partial);  // two bytes in the window, then unmapped
  CHECK(r.elements == 2);
  CHECK((h.regs.rcx & 0xFFFF) == 2);
  CHECK(h.regs.rcx >> 16 == 0xFFFF);  // upper bits kept
}

TEST_CASE("4-level paging: elements go where the guest's tables say") {
  Guest g;
  g.long_mode();
  g.ram.map(g.pml4, 0x400000, 0x250000, P | RW);          // source buffer
  g.ram.map(g.pml4, 0x7000'0000, kWindow + 0x1000, P | RW);  // the window's second page
  g.ram.put(0x250000, {9, 8, 7, 6});
  g.code({0xF3, 0xA4});
  g.regs.rsi = 0x400000;
  g.regs.rdi = 0x7000'0010;
  g.regs.rcx = 4;
  Emulation r = g.run(kWindow + 0x1010, true);
  REQUIRE(r.outcome == Outcome::Done);
  REQUIRE(g.dev.log.size() == 4);
  CHECK(g.dev.log[0].offset == 0x1010);
  CHECK(g.dev.log[3].offset == 0x1013);
  CHECK(g.dev.log[3].value == 6);
}

TEST_CASE("guest page rights: U/S with CPL, R/W with CR0.WP, SMAP with RFLAGS.AC give #PF and CR2") {
  SECTION("CPL 3 writing a supervisor page") {
    Guest g;
    g.long_mode();
    g.s.cpl = 3;
    g.ram.map(g.pml4, 0x400000, 0x250000, P | RW | US);
    g.ram.map(g.pml4, 0x500000, kWindow, P | RW);  // supervisor-only
    g.code({0xF3, 0xA4});
    g.regs.rsi = 0x400000;
    g.regs.rdi = 0x500000;
    g.regs.rcx = 2;
    Emulation r = g.run(kWindow, true);
    REQUIRE(r.outcome == Outcome::Inject);
    CHECK(r.event.vector == kVectorPf);
    CHECK(r.event.error_code == 0x7);  // P | W | U
    CHECK(r.event.page_fault);
    CHECK(r.event.cr2 == 0x500000);
    CHECK(r.rip == 0x1000);
    CHECK(g.regs.rcx == 2);
    CHECK(g.dev.log.empty());
  }
  SECTION("read-only RAM destination: allowed at CPL 0 without CR0.WP, #PF with it") {
    for (bool wp : {false, true}) {
      Guest g;
      g.long_mode(wp ? kCr0Wp : 0);
      g.ram.map(g.pml4, 0x400000, 0x250000, P);  // read-only
      g.ram.map(g.pml4, 0x500000, kWindow, P | RW);
      g.code({0xF3, 0xA4});
      g.regs.rsi = 0x500000;
      g.regs.rdi = 0x400000;
      g.regs.rcx = 1;
      Emulation r = g.run(kWindow, false);
      if (!wp) {
        CHECK(r.outcome == Outcome::Done);
      } else {
        REQUIRE(r.outcome == Outcome::Inject);
        CHECK(r.event.error_code == 0x3);  // P | W
        CHECK(r.event.cr2 == 0x400000);
        CHECK(g.dev.log.empty());  // the FIFO read is not consumed before the fault
      }
    }
  }
  SECTION("SMAP: a supervisor read of a user page needs AC") {
    for (bool ac : {false, true}) {
      Guest g;
      g.long_mode(0, kCr4Smap);
      if (ac) g.s.rflags |= kAc;
      g.ram.map(g.pml4, 0x400000, 0x250000, P | RW | US);
      g.ram.map(g.pml4, 0x500000, kWindow, P | RW);
      g.code({0xF3, 0xA4});
      g.regs.rsi = 0x400000;
      g.regs.rdi = 0x500000;
      g.regs.rcx = 1;
      Emulation r = g.run(kWindow, true);
      if (ac) {
        CHECK(r.outcome == Outcome::Done);
      } else {
        REQUIRE(r.outcome == Outcome::Inject);
        CHECK(r.event.error_code == 0x1);  // P, read, supervisor
        CHECK(r.event.cr2 == 0x400000);
      }
    }
  }
  SECTION("a fault at element k leaves the registers at element k") {
    Guest g;
    g.long_mode();
    g.ram.map(g.pml4, 0x400000, 0x250000, P | RW);  // 0x401000 not present
    g.ram.map(g.pml4, 0x500000, kWindow, P | RW);
    g.code({0xF3, 0xA4});
    g.regs.rsi = 0x400FFC;
    g.regs.rdi = 0x500000;
    g.regs.rcx = 8;
    Emulation r = g.run(kWindow, true);
    REQUIRE(r.outcome == Outcome::Inject);
    CHECK(r.event.error_code == 0x0);  // not present, read, supervisor
    CHECK(r.event.cr2 == 0x401000);
    CHECK(r.elements == 4);
    CHECK(g.regs.rcx == 4);
    CHECK(g.regs.rsi == 0x401000);
    CHECK(g.regs.rdi == 0x500004);
    CHECK(g.dev.log.size() == 4);
  }
}

TEST_CASE("an element that crosses a page is translated per page") {
  SECTION("RAM source split over two non-adjacent frames") {
    Guest g;
    g.long_mode();
    g.ram.map(g.pml4, 0x400000, 0x250000, P | RW);
    g.ram.map(g.pml4, 0x401000, 0x260000, P | RW);  // not 0x251000
    g.ram.map(g.pml4, 0x500000, kWindow, P | RW);
    g.ram.put(0x250FFE, {0x11, 0x22});
    g.ram.put(0x260000, {0x33, 0x44});
    g.ram.put(0x251000, {0xEE, 0xEE});  // what a first-byte-only translation would read
    g.code({0xA5});  // movsl
    g.regs.rsi = 0x400FFE;
    g.regs.rdi = 0x500000;
    Emulation r = g.run(kWindow, true);
    REQUIRE(r.outcome == Outcome::Done);
    REQUIRE(g.dev.log.size() == 1);
    CHECK(g.dev.log[0].size == 4);
    CHECK(g.dev.log[0].value == 0x44332211);
  }
  SECTION("MMIO destination split over two window pages: the device sees the bytes where they land") {
    Guest g;
    g.long_mode();
    g.ram.map(g.pml4, 0x500000, kWindow + 0x3000, P | RW);
    g.ram.map(g.pml4, 0x501000, kWindow + 0x1000, P | RW);
    g.code({0xAB});  // stosl
    g.regs.rax = 0xA1B2C3D4;
    g.regs.rdi = 0x500FFF;
    Emulation r = g.run(kWindow + 0x3FFF, true);
    REQUIRE(r.outcome == Outcome::Done);
    REQUIRE(g.dev.log.size() == 4);  // 1 byte, then 3 bytes one at a time
    CHECK(g.dev.log[0].offset == 0x3FFF);
    CHECK(g.dev.log[0].value == 0xD4);
    CHECK(g.dev.log[1].offset == 0x1000);
    CHECK(g.dev.log[1].value == 0xC3);
    CHECK(g.dev.log[3].offset == 0x1002);
    CHECK(g.dev.log[3].value == 0xA1);
  }
  SECTION("the second page denied: #PF at its first byte, nothing written") {
    Guest g;
    g.long_mode(kCr0Wp);
    g.ram.map(g.pml4, 0x500000, kWindow, P | RW);
    g.ram.map(g.pml4, 0x501000, kWindow + 0x1000, P);  // read-only
    g.code({0xAB});
    g.regs.rdi = 0x500FFE;
    Emulation r = g.run(kWindow + 0xFFE, true);
    REQUIRE(r.outcome == Outcome::Inject);
    CHECK(r.event.cr2 == 0x501000);
    CHECK(r.event.error_code == 0x3);
    CHECK(g.dev.log.empty());
  }
}

TEST_CASE("an instruction that straddles two pages is fetched from both") {
  Guest g;
  g.long_mode();
  g.s.rip = 0x2FFF;
  g.ram.map(g.pml4, 0x2000, 0x2000, P);
  g.ram.map(g.pml4, 0x3000, 0x7000, P);  // the next linear page is elsewhere
  g.ram.b[0x2FFF] = 0x89;               // mov %eax, (%rbx)
  g.ram.b[0x7000] = 0x03;
  g.regs.rbx = 0x9000;
  g.regs.rax = 0x55;
  Emulation r = g.run(kWindow + 4, true);
  REQUIRE(r.outcome == Outcome::Done);
  CHECK(r.rip == 0x3001);
  REQUIRE(g.dev.log.size() == 1);
  CHECK(g.dev.log[0].offset == 4);
  SECTION("and faults when the second page is not present") {
    g.ram.map(g.pml4, 0x3000, 0x7000, 0);
    r = g.run(kWindow + 4, true);
    REQUIRE(r.outcome == Outcome::Inject);
    CHECK(r.event.vector == kVectorPf);
    CHECK(r.event.cr2 == 0x3000);
    CHECK(r.event.error_code == 0x0);  // not present, supervisor, no I/D without NXE/SMEP
  }
}

TEST_CASE("event delivery touching the window and fetches from it are not emulated") {
  Guest g;
  g.code({0x89, 0x03});
  g.regs.rbx = kWindow;
  MmioFault f;
  f.gpa = kWindow;
  f.write = true;
  f.during_event_delivery = true;
  Emulation r = emulate_mmio(g.s, f, g.regs, g.ram, g.window);
  CHECK(r.outcome == Outcome::Stop);
  CHECK(r.stop == StopReason::EventDelivery);
  f.during_event_delivery = false;
  f.write = false;
  f.fetch = true;
  r = emulate_mmio(g.s, f, g.regs, g.ram, g.window);
  CHECK(r.stop == StopReason::FetchFromMmio);
  CHECK(g.dev.log.empty());
  CHECK(std::string(describe(StopReason::EventDelivery)).find("event delivery") != std::string::npos);
}

TEST_CASE("code outside guest RAM stops the guest") {
  Guest g;
  g.s.rip = 0x7FFFFFF0;  // paging off: far beyond 4 MiB of RAM
  Emulation r = g.run(kWindow, true);
  CHECK(r.outcome == Outcome::Stop);
  CHECK(r.stop == StopReason::FetchFailed);
  g.s.rip = 0x7FFFF000;  // page-aligned (the fuzzer's first input looped here once)
  r = g.run(kWindow, true);
  CHECK(r.stop == StopReason::FetchFailed);
}
