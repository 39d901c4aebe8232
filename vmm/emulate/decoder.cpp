#include "vmm/emulate/decoder.hpp"

namespace mamori::emulate {
namespace {

// Legacy prefixes (SDM Vol. 2, 2.1.1).
constexpr uint8_t kPrefixOpSize = 0x66;
constexpr uint8_t kPrefixAddrSize = 0x67;
constexpr uint8_t kPrefixLock = 0xF0;
constexpr uint8_t kPrefixRepne = 0xF2;
constexpr uint8_t kPrefixRep = 0xF3;
constexpr uint8_t kPrefixEs = 0x26, kPrefixCs = 0x2E, kPrefixSs = 0x36, kPrefixDs = 0x3E,
                  kPrefixFs = 0x64, kPrefixGs = 0x65;
// REX (SDM Vol. 2, 2.2.1): 0100WRXB.
constexpr uint8_t kRexMask = 0xF0, kRexBase = 0x40;
constexpr uint8_t kRexW = 0x08, kRexR = 0x04;

// Opcodes handled (SDM Vol. 2, chapter 4: MOV, MOVZX, MOVSX/MOVSXD, MOVS, STOS).
constexpr uint8_t kMovMR8 = 0x88, kMovMR = 0x89, kMovRM8 = 0x8A, kMovRM = 0x8B;
constexpr uint8_t kMovAlMoffs = 0xA0, kMovAxMoffs = 0xA1, kMovMoffsAl = 0xA2, kMovMoffsAx = 0xA3;
constexpr uint8_t kMovsb = 0xA4, kMovs = 0xA5, kStosb = 0xAA, kStos = 0xAB;
constexpr uint8_t kMovMI8 = 0xC6, kMovMI = 0xC7;
constexpr uint8_t kMovsxd = 0x63;
constexpr uint8_t kTwoByte = 0x0F;
constexpr uint8_t kMovzx8 = 0xB6, kMovzx16 = 0xB7, kMovsx8 = 0xBE, kMovsx16 = 0xBF;

// ModRM fields (SDM Vol. 2, 2.1.5).
constexpr uint8_t kModRegister = 3;
constexpr uint8_t kRmSib = 4;
constexpr uint8_t kRmDisp32 = 5;   // mod 00: disp32 (RIP-relative in 64-bit mode)
constexpr uint8_t kRm16Disp16 = 6;  // 16-bit addressing, mod 00: disp16
constexpr uint8_t kSibBaseNone = 5;

struct Decoder {
  const uint8_t* bytes;
  size_t len;
  size_t pos = 0;
  Status error = Status::Ok;

  bool need(size_t n) {
    if (pos + n > kMaxInstructionLength) {
      error = Status::Invalid;
      return false;
    }
    if (pos + n > len) {
      error = Status::Truncated;
      return false;
    }
    return true;
  }
  bool byte(uint8_t& out) {
    if (!need(1)) return false;
    out = bytes[pos++];
    return true;
  }
  bool imm(uint8_t n, uint64_t& out) {
    if (!need(n)) return false;
    out = 0;
    for (uint8_t i = 0; i < n; ++i) out |= uint64_t{bytes[pos + i]} << (8 * i);
    pos += n;
    return true;
  }
  bool skip(size_t n) {
    if (!need(n)) return false;
    pos += n;
    return true;
  }
};

constexpr uint64_t mask_bytes(uint8_t n) { return n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1; }

constexpr uint64_t sign_extend(uint64_t v, uint8_t from_bytes) {
  if (from_bytes >= 8) return v;
  const uint64_t sign = uint64_t{1} << (8 * from_bytes - 1);
  v &= mask_bytes(from_bytes);
  return (v ^ sign) - sign;
}

struct ModRm {
  uint8_t reg = 0;  // including REX.R
  bool uses_ss = false;  // BP/SP-based: default segment SS
};

// Consumes ModRM, SIB and displacement of a memory operand. Register forms
// (mod = 11) cannot fault on memory: Unsupported.
bool parse_modrm(Decoder& d, uint8_t address_size, uint8_t rex, ModRm& out) {
  uint8_t m = 0;
  if (!d.byte(m)) return false;
  const uint8_t mod = m >> 6, reg = (m >> 3) & 7, rm = m & 7;
  out.reg = static_cast<uint8_t>(reg | ((rex & kRexR) ? 8 : 0));
  if (mod == kModRegister) {
    d.error = Status::Unsupported;
    return false;
  }
  if (address_size == 2) {
    // 16-bit addressing (SDM Vol. 2, Table 2-1).
    out.uses_ss = rm == 2 || rm == 3 || (rm == kRm16Disp16 && mod != 0);
    if (mod == 0) return rm == kRm16Disp16 ? d.skip(2) : true;
    return d.skip(mod == 1 ? 1 : 2);
  }
  // 32/64-bit addressing (SDM Vol. 2, Tables 2-2 and 2-3).
  uint8_t base = rm;
  if (rm == kRmSib) {
    uint8_t sib = 0;
    if (!d.byte(sib)) return false;
    base = sib & 7;
    if (mod == 0 && base == kSibBaseNone) {
      out.uses_ss = false;
      return d.skip(4);
    }
    out.uses_ss = base == 4 || base == 5;  // rSP / rBP (REX.B selects r12/r13: DS, flat anyway)
  } else if (mod == 0 && rm == kRmDisp32) {
    return d.skip(4);  // disp32, or RIP/EIP-relative
  } else {
    out.uses_ss = rm == 5;  // [rBP + disp]
  }
  if (mod == 0) return true;
  return d.skip(mod == 1 ? 1 : 4);
}

uint64_t gpr_value(const Gprs& regs, uint8_t reg, uint8_t size, bool rex_present, bool& high) {
  high = size == 1 && !rex_present && reg >= 4 && reg < 8;
  if (high) return (regs.gpr[reg - 4] >> 8) & 0xFF;
  return regs.gpr[reg] & mask_bytes(size);
}

}  // namespace

Result decode(const uint8_t* bytes, size_t len, CpuMode mode, const Gprs& regs, uint64_t rflags) {
  Result res;
  if (bytes == nullptr) return res;  // Invalid
  Decoder d{bytes, len};
  const bool long64 = mode == CpuMode::Long64;
  const bool legacy16 = mode == CpuMode::Real16 || mode == CpuMode::Protected16;

  bool opsize = false, addrsize = false, lock = false, rep = false, repne = false;
  bool seg_override = false;
  Segment seg = Segment::Ds;
  uint8_t rex = 0;
  uint8_t op = 0;
  for (;;) {
    if (!d.byte(op)) {
      res.status = d.error;
      return res;
    }
    if (long64 && (op & kRexMask) == kRexBase) {
      rex = op;  // effective only if the opcode follows (SDM Vol. 2, 2.2.1)
      continue;
    }
    bool prefix = true;
    switch (op) {
      case kPrefixOpSize: opsize = true; break;
      case kPrefixAddrSize: addrsize = true; break;
      case kPrefixLock: lock = true; break;
      case kPrefixRepne: repne = true; rep = false; break;
      case kPrefixRep: rep = true; repne = false; break;
      case kPrefixEs: seg = Segment::Es; seg_override = true; break;
      case kPrefixCs: seg = Segment::Cs; seg_override = true; break;
      case kPrefixSs: seg = Segment::Ss; seg_override = true; break;
      case kPrefixDs: seg = Segment::Ds; seg_override = true; break;
      case kPrefixFs: seg = Segment::Fs; seg_override = true; break;
      case kPrefixGs: seg = Segment::Gs; seg_override = true; break;
      default: prefix = false; break;
    }
    if (!prefix) break;
    rex = 0;  // a REX followed by a legacy prefix is ignored
  }
  // 64-bit mode ignores ES/CS/SS/DS overrides (SDM Vol. 1, 3.3.7.1).
  if (long64 && seg_override && seg != Segment::Fs && seg != Segment::Gs) seg_override = false;
  if (long64 && !seg_override) seg = Segment::Ds;

  // Operand and address size (SDM Vol. 1, 3.6, Table 3-4; Vol. 2, 2.2.1.2).
  uint8_t osz = legacy16 ? 2 : 4;
  if (opsize) osz = osz == 2 ? 4 : 2;
  if (rex & kRexW) osz = 8;
  uint8_t asz = long64 ? 8 : (legacy16 ? 2 : 4);
  if (addrsize) asz = long64 ? 4 : (asz == 2 ? 4 : 2);
  const bool rex_present = rex != 0;

  Access& a = res.access;
  a.address_size = asz;
  a.segment = seg;

  // LOCK on a MOV is #UD; REPNE has no meaning for MOV/MOVS/STOS here.
  if (lock || repne) {
    res.status = Status::Unsupported;
    return res;
  }
  const bool string_op = op == kMovsb || op == kMovs || op == kStosb || op == kStos;
  if (rep && !string_op) {
    res.status = Status::Unsupported;
    return res;
  }

  ModRm mr;
  bool ok = true;
  switch (op) {
    case kMovMR8:
    case kMovMR:
      ok = parse_modrm(d, asz, rex, mr);
      a.direction = Direction::Write;
      a.size = op == kMovMR8 ? 1 : osz;
      a.value = gpr_value(regs, mr.reg, a.size, rex_present, a.high_byte);
      a.reg = static_cast<Gpr>(a.high_byte ? mr.reg - 4 : mr.reg);  // source register
      break;
    case kMovRM8:
    case kMovRM:
      ok = parse_modrm(d, asz, rex, mr);
      a.direction = Direction::Read;
      a.size = op == kMovRM8 ? 1 : osz;
      a.reg_size = a.size;
      a.reg = static_cast<Gpr>(mr.reg);
      a.high_byte = a.size == 1 && !rex_present && mr.reg >= 4 && mr.reg < 8;
      if (a.high_byte) a.reg = static_cast<Gpr>(mr.reg - 4);
      break;
    case kMovAlMoffs:
    case kMovAxMoffs:
    case kMovMoffsAl:
    case kMovMoffsAx: {
      ok = d.skip(asz);  // moffs: an address-size offset, no ModRM
      a.size = (op == kMovAlMoffs || op == kMovMoffsAl) ? 1 : osz;
      a.reg = Gpr::Rax;
      if (op == kMovAlMoffs || op == kMovAxMoffs) {
        a.direction = Direction::Read;
        a.reg_size = a.size;
      } else {
        a.direction = Direction::Write;
        a.value = regs[Gpr::Rax] & mask_bytes(a.size);
      }
      break;
    }
    case kMovMI8:
    case kMovMI: {
      ok = parse_modrm(d, asz, rex, mr);
      if (ok && (mr.reg & 7) != 0) {  // C6/C7 with reg != 0 are not MOV
        d.error = Status::Unsupported;
        ok = false;
      }
      a.direction = Direction::Write;
      a.size = op == kMovMI8 ? 1 : osz;
      const uint8_t imm_size = a.size == 8 ? 4 : a.size;  // imm32 sign-extended to 64
      uint64_t v = 0;
      if (ok) ok = d.imm(imm_size, v);
      a.value = sign_extend(v, imm_size) & mask_bytes(a.size);
      break;
    }
    case kMovsxd:
      if (!long64 || osz == 2) {  // ARPL outside 64-bit mode; 16-bit form unusual
        res.status = Status::Unsupported;
        return res;
      }
      ok = parse_modrm(d, asz, rex, mr);
      a.direction = Direction::Read;
      a.size = 4;
      a.reg_size = osz;
      a.extend = osz == 8 ? Extend::Sign : Extend::None;
      a.reg = static_cast<Gpr>(mr.reg);
      break;
    case kTwoByte: {
      uint8_t op2 = 0;
      ok = d.byte(op2);
      if (!ok) break;
      if (op2 != kMovzx8 && op2 != kMovzx16 && op2 != kMovsx8 && op2 != kMovsx16) {
        res.status = Status::Unsupported;
        return res;
      }
      ok = parse_modrm(d, asz, rex, mr);
      a.direction = Direction::Read;
      a.size = (op2 == kMovzx8 || op2 == kMovsx8) ? 1 : 2;
      a.reg_size = osz;
      a.extend = (op2 == kMovzx8 || op2 == kMovzx16) ? Extend::Zero : Extend::Sign;
      a.reg = static_cast<Gpr>(mr.reg);
      break;
    }
    case kMovsb:
    case kMovs:
    case kStosb:
    case kStos: {
      const bool movs = op == kMovsb || op == kMovs;
      a.string = movs ? StringOp::Movs : StringOp::Stos;
      a.size = (op == kMovsb || op == kStosb) ? 1 : osz;
      a.direction = movs ? Direction::Copy : Direction::Write;
      if (!movs) a.value = regs[Gpr::Rax] & mask_bytes(a.size);
      a.rep = rep;
      a.count = rep ? (regs[Gpr::Rcx] & mask_bytes(asz)) : 1;
      a.backward = (rflags & kRflagsDf) != 0;
      if (!movs) a.segment = Segment::Es;  // STOS writes ES:rDI, no override
      break;
    }
    default:
      res.status = Status::Unsupported;
      return res;
  }
  if (!ok) {
    res.status = d.error;
    return res;
  }
  if (!seg_override && mr.uses_ss && !long64) a.segment = Segment::Ss;
  a.length = static_cast<uint8_t>(d.pos);
  res.status = Status::Ok;
  return res;
}

void complete_read(const Access& a, Gprs& regs, uint64_t memory_value) {
  if (a.direction != Direction::Read || a.reg_size == 0) return;
  uint64_t v = memory_value & mask_bytes(a.size);
  if (a.extend == Extend::Sign) v = sign_extend(v, a.size);
  v &= mask_bytes(a.reg_size);
  uint64_t& r = regs[a.reg];
  switch (a.reg_size) {
    case 1:
      if (a.high_byte) {
        r = (r & ~uint64_t{0xFF00}) | (v << 8);
      } else {
        r = (r & ~uint64_t{0xFF}) | v;
      }
      break;
    case 2:
      r = (r & ~uint64_t{0xFFFF}) | v;
      break;
    default:  // 4: zero-extends into bits 63:32; 8: whole register
      r = v;
      break;
  }
}

bool mmio_direction(const Access& a, FaultKind fault, Direction& out) {
  switch (a.direction) {
    case Direction::Read:
      out = Direction::Read;
      return fault == FaultKind::Read;
    case Direction::Write:
      out = Direction::Write;
      return fault == FaultKind::Write;
    case Direction::Copy:
      out = fault == FaultKind::Read ? Direction::Read : Direction::Write;
      return true;
  }
  return false;
}

void advance_string(const Access& a, Gprs& regs, uint64_t iterations) {
  if (a.string == StringOp::None) return;
  const uint64_t m = mask_bytes(a.address_size);
  const uint64_t delta = iterations * a.size;
  auto step = [&](Gpr g) {
    uint64_t& r = regs[g];
    const uint64_t moved = (a.backward ? (r - delta) : (r + delta)) & m;
    // Address sizes below 64 bits update only the low part (SDM Vol. 1, 3.3.7;
    // 32-bit writes in 64-bit mode clear the high half).
    r = a.address_size == 4 ? moved : ((r & ~m) | moved);
  };
  step(Gpr::Rdi);
  if (a.string == StringOp::Movs) step(Gpr::Rsi);
  if (a.rep) {
    uint64_t& c = regs[Gpr::Rcx];
    const uint64_t left = ((c & m) - iterations) & m;
    c = a.address_size == 4 ? left : ((c & ~m) | left);
  }
}

}  // namespace mamori::emulate
