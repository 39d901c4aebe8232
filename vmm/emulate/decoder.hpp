// x86 instruction decoder for MMIO emulation (pure).
//
// Supported (SDM Vol. 2): MOV 88/89/8A/8B (all ModRM memory forms, SIB,
// disp8/16/32, RIP-relative), MOV A0-A3 (moffs), MOV C6/0 and C7/0 (imm),
// MOVZX 0F B6/B7, MOVSX 0F BE/BF, MOVSXD 63 (64-bit mode), MOVS A4/A5 and
// STOS AA/AB with or without REP (F3); prefixes 66, 67, segment overrides and
// REX. This covers what Linux's ioread/iowrite and memcpy_{to,from}io and
// OVMF's MmioRead/MmioWrite compile to. Everything else — register forms,
// LOCK, REPNE, VEX/EVEX, other opcodes — is reported Unsupported, never
// guessed.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vmm/emulate/access.hpp"

namespace mamori::emulate {

// SDM Vol. 2, 2.3.11: an instruction is at most 15 bytes.
inline constexpr size_t kMaxInstructionLength = 15;

// Decodes the instruction at `bytes[0..len)`; `regs` supplies the values of
// written registers and rCX for REP counts, `rflags` DF.
Result decode(const uint8_t* bytes, size_t len, CpuMode mode, const Gprs& regs, uint64_t rflags);

// Puts the `size`-byte value read from MMIO into the destination register of
// a Direction::Read access with MOV/MOVZX/MOVSX semantics: 8- and 16-bit
// destinations keep the register's other bits, 32-bit destinations clear
// bits 63:32 (SDM Vol. 1, 3.4.1.1), AH-style destinations use bits 15:8.
void complete_read(const Access& a, Gprs& regs, uint64_t memory_value);

// What the EPT-violation exit qualification says the faulting access was
// (SDM Vol. 3C, "Exit Qualification for EPT Violations": bit 0 data read,
// bit 1 data write).
enum class FaultKind : uint8_t { Read, Write };

// The direction to emulate on the MMIO page for a decoded access: MOVS
// becomes Read when the page is its source and Write when it is its
// destination. False when the decoded instruction cannot have made the
// faulting access — e.g. another vCPU rewrote the instruction bytes between
// the fault and the fetch — so the VMM must not emulate it (re-enter the
// guest to fault again, or inject #GP).
bool mmio_direction(const Access& a, FaultKind fault, Direction& out);

// Advances rSI/rDI (by size, backwards when DF=1) and, for REP, decrements
// rCX, for `iterations` completed elements of a string access, in the
// access's address size (SDM Vol. 2, MOVS/STOS, REP).
void advance_string(const Access& a, Gprs& regs, uint64_t iterations);

}  // namespace mamori::emulate
