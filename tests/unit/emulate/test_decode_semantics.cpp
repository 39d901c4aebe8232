// Register write-back, string advance, prefix limits and refusal rules.
#include <string.h>

#include <catch.hpp>

#include "vmm/emulate/decoder.hpp"

using namespace mamori::emulate;

namespace {
Access read_access(uint8_t size, Gpr reg, uint8_t reg_size, Extend ext, bool high = false) {
  Access a;
  a.direction = Direction::Read;
  a.size = size;
  a.reg = reg;
  a.reg_size = reg_size;
  a.extend = ext;
  a.high_byte = high;
  return a;
}
}  // namespace

TEST_CASE("complete_read merges, zero-extends and sign-extends as MOV/MOVZX/MOVSX", "[decode]") {
  Gprs r{};
  r[Gpr::Rbx] = 0xAAAAAAAAAAAAAAAAull;
  complete_read(read_access(1, Gpr::Rbx, 1, Extend::None), r, 0x1234);
  CHECK(r[Gpr::Rbx] == 0xAAAAAAAAAAAAAA34ull);  // 8-bit: rest kept
  complete_read(read_access(1, Gpr::Rbx, 1, Extend::None, true), r, 0x56);
  CHECK(r[Gpr::Rbx] == 0xAAAAAAAAAAAA5634ull);  // BH
  complete_read(read_access(2, Gpr::Rbx, 2, Extend::None), r, 0xFFFF1111);
  CHECK(r[Gpr::Rbx] == 0xAAAAAAAAAAAA1111ull);  // 16-bit: rest kept
  complete_read(read_access(4, Gpr::Rbx, 4, Extend::None), r, 0xFFFFFFFF80000000ull);
  CHECK(r[Gpr::Rbx] == 0x0000000080000000ull);  // 32-bit: zero-extended
  r[Gpr::Rbx] = ~uint64_t{0};
  complete_read(read_access(1, Gpr::Rbx, 4, Extend::Zero), r, 0x80);
  CHECK(r[Gpr::Rbx] == 0x80);
  complete_read(read_access(1, Gpr::Rbx, 4, Extend::Sign), r, 0x80);
  CHECK(r[Gpr::Rbx] == 0xFFFFFF80ull);  // movsbl: 32-bit result, upper cleared
  complete_read(read_access(2, Gpr::Rbx, 8, Extend::Sign), r, 0x8001);
  CHECK(r[Gpr::Rbx] == 0xFFFFFFFFFFFF8001ull);
  r[Gpr::Rbx] = 0xAAAAAAAAAAAAAAAAull;
  complete_read(read_access(1, Gpr::Rbx, 2, Extend::Sign), r, 0xFE);
  CHECK(r[Gpr::Rbx] == 0xAAAAAAAAAAAAFFFEull);  // movsbw: 16-bit result
  complete_read(read_access(4, Gpr::Rbx, 8, Extend::Sign), r, 0x7FFFFFFF);
  CHECK(r[Gpr::Rbx] == 0x7FFFFFFFull);
  // Writes are not touched.
  Access w;
  w.direction = Direction::Write;
  w.size = 4;
  complete_read(w, r, 0);
  CHECK(r[Gpr::Rbx] == 0x7FFFFFFFull);
}

TEST_CASE("decode then complete: movzbl reads into eax", "[decode]") {
  const uint8_t movzbl[] = {0x0F, 0xB6, 0x02};  // movzbl (%rdx),%eax (checked in the gas table)
  Gprs r{};
  r[Gpr::Rax] = ~uint64_t{0};
  const Result res = decode(movzbl, sizeof movzbl, CpuMode::Long64, r, 0);
  REQUIRE(res.status == Status::Ok);
  complete_read(res.access, r, 0xC3);
  CHECK(r[Gpr::Rax] == 0xC3);
}

TEST_CASE("advance_string: forward, backward, REP count, address-size wrap", "[decode]") {
  Access a;
  a.string = StringOp::Movs;
  a.size = 4;
  a.rep = true;
  a.address_size = 8;
  Gprs r{};
  r[Gpr::Rsi] = 0x1000;
  r[Gpr::Rdi] = 0x2000;
  r[Gpr::Rcx] = 10;
  advance_string(a, r, 3);
  CHECK(r[Gpr::Rsi] == 0x100C);
  CHECK(r[Gpr::Rdi] == 0x200C);
  CHECK(r[Gpr::Rcx] == 7);
  a.backward = true;
  advance_string(a, r, 7);
  CHECK(r[Gpr::Rsi] == 0x1000 + 12 - 28);
  CHECK(r[Gpr::Rcx] == 0);
  // 16-bit addressing wraps inside the low word and keeps the rest.
  Access s;
  s.string = StringOp::Stos;
  s.size = 2;
  s.address_size = 2;
  r[Gpr::Rdi] = 0xABCD0000FFFEull;
  r[Gpr::Rsi] = 0x55;
  advance_string(s, r, 1);
  CHECK(r[Gpr::Rdi] == 0xABCD00000000ull);
  CHECK(r[Gpr::Rsi] == 0x55);  // STOS does not move rSI
  // 32-bit addressing in 64-bit mode clears bits 63:32.
  a.backward = false;
  a.address_size = 4;
  r[Gpr::Rdi] = 0x1'FFFFFFFCull;
  r[Gpr::Rsi] = 0;
  r[Gpr::Rcx] = 0x5'00000002ull;
  advance_string(a, r, 1);
  CHECK(r[Gpr::Rdi] == 0);
  CHECK(r[Gpr::Rcx] == 1);
}

TEST_CASE("REP count uses the address-size part of rCX and DF", "[decode]") {
  const uint8_t rep_movsl_a32[] = {0x67, 0xF3, 0xA5};
  Gprs r{};
  r[Gpr::Rcx] = 0xFFFFFFFF00000010ull;
  const uint64_t rflags = kRflagsDf;
  const Result res = decode(rep_movsl_a32, sizeof rep_movsl_a32, CpuMode::Long64, r, rflags);
  REQUIRE(res.status == Status::Ok);
  CHECK(res.access.count == 0x10);
  CHECK(res.access.backward);
  CHECK(res.access.address_size == 4);
}

TEST_CASE("more than 15 bytes of prefixes is Invalid; null input is Invalid", "[decode]") {
  uint8_t b[20];
  memset(b, 0x66, sizeof b);
  b[14] = 0x89;
  b[15] = 0x02;
  Gprs r{};
  CHECK(decode(b, sizeof b, CpuMode::Long64, r, 0).status == Status::Invalid);
  // 13 prefixes + opcode + ModRM = 15 bytes: still fine.
  uint8_t c[15];
  memset(c, 0x66, sizeof c);
  c[13] = 0x89;
  c[14] = 0x02;
  const Result ok = decode(c, sizeof c, CpuMode::Long64, r, 0);
  CHECK(ok.status == Status::Ok);
  CHECK(ok.access.length == 15);
  CHECK(decode(nullptr, 4, CpuMode::Long64, r, 0).status == Status::Invalid);
  CHECK(decode(c, 0, CpuMode::Long64, r, 0).status == Status::Truncated);
}

TEST_CASE("REX bytes are instructions outside 64-bit mode", "[decode]") {
  const uint8_t b[] = {0x48, 0x89, 0x02};
  Gprs r{};
  CHECK(decode(b, sizeof b, CpuMode::Protected32, r, 0).status == Status::Unsupported);  // dec %eax
  CHECK(decode(b, sizeof b, CpuMode::Long64, r, 0).access.size == 8);
}

TEST_CASE("64-bit mode ignores ES/CS/SS/DS overrides but keeps FS/GS", "[decode]") {
  const uint8_t ss_mov[] = {0x36, 0x8B, 0x02};
  const uint8_t gs_mov[] = {0x65, 0x8B, 0x02};
  Gprs r{};
  CHECK(decode(ss_mov, sizeof ss_mov, CpuMode::Long64, r, 0).access.segment == Segment::Ds);
  CHECK(decode(gs_mov, sizeof gs_mov, CpuMode::Long64, r, 0).access.segment == Segment::Gs);
  CHECK(decode(ss_mov, sizeof ss_mov, CpuMode::Protected32, r, 0).access.segment == Segment::Ss);
}

TEST_CASE("mmio_direction checks the decode against the EPT fault", "[decode]") {
  Access rd;
  rd.direction = Direction::Read;
  Access wr;
  wr.direction = Direction::Write;
  Access movs;
  movs.direction = Direction::Copy;
  movs.string = StringOp::Movs;
  Direction d = Direction::Copy;
  CHECK(mmio_direction(rd, FaultKind::Read, d));
  CHECK(d == Direction::Read);
  CHECK_FALSE(mmio_direction(rd, FaultKind::Write, d));  // bytes changed under us
  CHECK(mmio_direction(wr, FaultKind::Write, d));
  CHECK(d == Direction::Write);
  CHECK_FALSE(mmio_direction(wr, FaultKind::Read, d));
  CHECK(mmio_direction(movs, FaultKind::Read, d));  // MMIO is the source: memcpy_fromio
  CHECK(d == Direction::Read);
  CHECK(mmio_direction(movs, FaultKind::Write, d));  // MMIO is the destination: memcpy_toio
  CHECK(d == Direction::Write);
}
