// What one faulting MMIO instruction does, as the VMM needs it to emulate the
// access: size, direction, the value written or the register filled, and
// the instruction length.
#pragma once

#include <stdint.h>

#include "vmm/arch/regs.hpp"

namespace mamori::emulate {

// Execution mode of the guest at the fault (SDM Vol. 3, 2.2 / Vol. 1, 3.6):
// Real and Virtual-8086 mode and 16-bit protected code (CS.D = 0) default to
// 16-bit operands and addresses; 32-bit protected and compatibility mode
// with CS.D = 1 to 32-bit; 64-bit mode (CS.L = 1) to 32-bit operands and
// 64-bit addresses.
enum class CpuMode : uint8_t { Real16, Protected16, Protected32, Long64 };

// General-purpose registers: the VMM's one register file, in ModRM/REX
// encoding order (vmm/arch/regs.hpp; SDM Vol. 2, 2.1.5).
using arch::Gpr;
using arch::Gprs;
using arch::kNumGprs;

inline constexpr uint64_t kRflagsDf = 1u << 10;  // SDM Vol. 1, 3.4.3.2

enum class Direction : uint8_t {
  Read,   // memory -> register (MOV r, m; MOVZX; MOVSX)
  Write,  // register/immediate -> memory (MOV m, r/imm; STOS)
  Copy,   // memory -> memory (MOVS): the VMM decides which side is MMIO
};

enum class Extend : uint8_t { None, Zero, Sign };
enum class StringOp : uint8_t { None, Movs, Stos };
// Segment of the memory operand (SDM Vol. 2, 2.1.1 group 2 / 3.3.4).
enum class Segment : uint8_t { Es, Cs, Ss, Ds, Fs, Gs };

struct Access {
  uint8_t length = 0;  // instruction bytes, for RIP advance
  uint8_t size = 0;    // bytes of one memory access: 1, 2, 4 or 8
  Direction direction = Direction::Read;

  // Direction::Read: destination register and how the value lands in it.
  Gpr reg = Gpr::Rax;
  bool high_byte = false;  // AH/CH/DH/BH (ModRM reg 4-7 without REX)
  uint8_t reg_size = 0;    // destination operand size (>= size)
  Extend extend = Extend::None;

  // Direction::Write (non-string and STOS): the bytes to store.
  uint64_t value = 0;

  // String instructions.
  StringOp string = StringOp::None;
  bool rep = false;
  uint64_t count = 1;        // iterations: rCX (address-size wide) with REP, else 1
  bool backward = false;     // RFLAGS.DF
  uint8_t address_size = 0;  // 2, 4 or 8: width of rSI/rDI/rCX and of moffs
  Segment segment = Segment::Ds;  // memory operand (MOVS source); MOVS/STOS destination is always ES
};

enum class Status : uint8_t {
  Ok,
  Unsupported,  // a valid instruction the emulator does not handle: inject a fault
  Invalid,      // not an instruction that can fault on memory this way (e.g. > 15 bytes)
  Truncated,    // needs more bytes than were fetched
};

struct Result {
  Status status = Status::Invalid;
  Access access{};
};

}  // namespace mamori::emulate
