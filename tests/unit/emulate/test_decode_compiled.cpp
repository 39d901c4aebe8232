// The decoder on machine code the system compiler produced for the guests'
// MMIO accessors (compiled_accessors.c): each function's first instruction
// is its MMIO access; the decode must say what the CPU would do.
#include <string.h>

#include <catch.hpp>

#include "vmm/emulate/decoder.hpp"

using namespace mamori::emulate;

extern "C" {
uint8_t edk2_mmio_read8(uintptr_t);
uint16_t edk2_mmio_read16(uintptr_t);
uint32_t edk2_mmio_read32(uintptr_t);
uint64_t edk2_mmio_read64(uintptr_t);
void edk2_mmio_write8(uintptr_t, uint8_t);
void edk2_mmio_write16(uintptr_t, uint16_t);
void edk2_mmio_write32(uintptr_t, uint32_t);
void edk2_mmio_write64(uintptr_t, uint64_t);
uint8_t linux_readb(const volatile void*);
uint16_t linux_readw(const volatile void*);
uint32_t linux_readl(const volatile void*);
uint64_t linux_readq(const volatile void*);
void linux_writeb(uint8_t, volatile void*);
void linux_writew(uint16_t, volatile void*);
void linux_writel(uint32_t, volatile void*);
void linux_writeq(uint64_t, volatile void*);
extern const uint8_t mamori_site_rep_movsl[];
extern const uint8_t mamori_site_movsw[];
extern const uint8_t mamori_site_movsb[];
}

namespace {

constexpr uint8_t kRet = 0xC3;

Result decode_at(const void* code) {
  uint8_t bytes[kMaxInstructionLength];
  memcpy(bytes, code, sizeof bytes);
  Gprs regs{};
  regs[Gpr::Rdi] = 0x1122334455667788ull;  // first argument
  regs[Gpr::Rsi] = 0x99AABBCCDDEEFF01ull;  // second argument
  return decode(bytes, sizeof bytes, CpuMode::Long64, regs, 0);
}

// A read accessor: one load into the return register, then ret; after
// complete_read the return register holds the value (as the C type).
void check_read(const void* fn, uint8_t size) {
  const Result r = decode_at(fn);
  REQUIRE(r.status == Status::Ok);
  CHECK(r.access.direction == Direction::Read);
  CHECK(r.access.size == size);
  CHECK(r.access.reg == Gpr::Rax);
  CHECK(static_cast<const uint8_t*>(fn)[r.access.length] == kRet);
  Gprs regs{};
  regs[Gpr::Rax] = 0xDEADDEADDEADDEADull;
  complete_read(r.access, regs, 0xF1E2D3C4B5A69788ull);
  const uint64_t mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
  CHECK((regs[Gpr::Rax] & mask) == (0xF1E2D3C4B5A69788ull & mask));
}

// A write accessor: one store of the value argument, then ret.
void check_write(const void* fn, uint8_t size, uint64_t value_arg) {
  const Result r = decode_at(fn);
  REQUIRE(r.status == Status::Ok);
  CHECK(r.access.direction == Direction::Write);
  CHECK(r.access.size == size);
  const uint64_t mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
  CHECK(r.access.value == (value_arg & mask));
  CHECK(static_cast<const uint8_t*>(fn)[r.access.length] == kRet);
}

const void* code(auto* fn) { return reinterpret_cast<const void*>(fn); }

}  // namespace

TEST_CASE("edk2 MmioRead/MmioWrite as compiled", "[decode][compiled]") {
  check_read(code(edk2_mmio_read8), 1);
  check_read(code(edk2_mmio_read16), 2);
  check_read(code(edk2_mmio_read32), 4);
  check_read(code(edk2_mmio_read64), 8);
  // (address, value): the value is the second argument, rsi.
  check_write(code(edk2_mmio_write8), 1, 0x99AABBCCDDEEFF01ull);
  check_write(code(edk2_mmio_write16), 2, 0x99AABBCCDDEEFF01ull);
  check_write(code(edk2_mmio_write32), 4, 0x99AABBCCDDEEFF01ull);
  check_write(code(edk2_mmio_write64), 8, 0x99AABBCCDDEEFF01ull);
}

TEST_CASE("Linux readX/writeX as compiled", "[decode][compiled]") {
  check_read(code(linux_readb), 1);
  check_read(code(linux_readw), 2);
  check_read(code(linux_readl), 4);
  check_read(code(linux_readq), 8);
  // (value, address): the value is the first argument, rdi.
  check_write(code(linux_writeb), 1, 0x1122334455667788ull);
  check_write(code(linux_writew), 2, 0x1122334455667788ull);
  check_write(code(linux_writel), 4, 0x1122334455667788ull);
  check_write(code(linux_writeq), 8, 0x1122334455667788ull);
}

TEST_CASE("Linux memcpy_*io string instructions as assembled", "[decode][compiled]") {
  const Result movsl = decode_at(mamori_site_rep_movsl);
  REQUIRE(movsl.status == Status::Ok);
  CHECK(movsl.access.string == StringOp::Movs);
  CHECK(movsl.access.rep);
  CHECK(movsl.access.size == 4);
  CHECK(movsl.access.length == 2);
  const Result movsw = decode_at(mamori_site_movsw);
  REQUIRE(movsw.status == Status::Ok);
  CHECK(movsw.access.size == 2);
  CHECK_FALSE(movsw.access.rep);
  const Result movsb = decode_at(mamori_site_movsb);
  REQUIRE(movsb.status == Status::Ok);
  CHECK(movsb.access.size == 1);
  CHECK(movsb.access.length == 1);
}
