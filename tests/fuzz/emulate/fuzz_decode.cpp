// libFuzzer target: random bytes, mode and registers into the decoder.
// Invariants: no crash/UB; an Ok result has 1 <= length <= min(len, 15), an
// access size of 1/2/4/8, a destination at least as wide as the access, a
// write value that fits the access size, an address size of 2/4/8; the
// decode depends only on the first `length` bytes, and any shorter prefix
// is Truncated (never a different instruction).
#include <stdint.h>
#include <stdlib.h>

#include "vmm/emulate/decoder.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"

using namespace mamori::emulate;

// Field by field: the struct's padding bytes are indeterminate.
static bool same(const Access& x, const Access& y) {
  return x.length == y.length && x.size == y.size && x.direction == y.direction && x.reg == y.reg &&
         x.high_byte == y.high_byte && x.reg_size == y.reg_size && x.extend == y.extend && x.value == y.value &&
         x.string == y.string && x.rep == y.rep && x.count == y.count && x.backward == y.backward &&
         x.address_size == y.address_size && x.segment == y.segment;
}

static bool valid_size(uint8_t s) { return s == 1 || s == 2 || s == 4 || s == 8; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const CpuMode mode = static_cast<CpuMode>(data[0] & 3);
  Gprs regs{};
  for (unsigned i = 0; i < kNumGprs; ++i) regs.gpr[i] = 0x0123456789ABCDEFull * (i + data[1]);
  const uint64_t rflags = (data[1] & 1) ? kRflagsDf : 0;
  const uint8_t* bytes = data + 2;
  const size_t len = size - 2;

  const Result r = decode(bytes, len, mode, regs, rflags);
  if (r.status != Status::Ok) {
    FUZZ_ASSERT(r.status == Status::Unsupported || r.status == Status::Invalid || r.status == Status::Truncated);
    return 0;
  }
  const Access& a = r.access;
  FUZZ_ASSERT(a.length >= 1 && a.length <= kMaxInstructionLength && a.length <= len);
  FUZZ_ASSERT(valid_size(a.size));
  FUZZ_ASSERT(a.address_size == 2 || a.address_size == 4 || a.address_size == 8);
  if (mode != CpuMode::Long64) FUZZ_ASSERT(a.size <= 4 && a.address_size <= 4);
  if (a.direction == Direction::Read) {
    FUZZ_ASSERT(valid_size(a.reg_size) && a.reg_size >= a.size);
    FUZZ_ASSERT(static_cast<unsigned>(a.reg) < kNumGprs);
    if (a.high_byte) FUZZ_ASSERT(a.size == 1 && static_cast<unsigned>(a.reg) < 4);
    FUZZ_ASSERT(a.string == StringOp::None);
    Gprs after = regs;
    complete_read(a, after, ~uint64_t{0});
    for (unsigned i = 0; i < kNumGprs; ++i) {
      if (i != static_cast<unsigned>(a.reg)) FUZZ_ASSERT(after.gpr[i] == regs.gpr[i]);
    }
  } else if (a.size < 8) {
    FUZZ_ASSERT((a.value >> (8 * a.size)) == 0);
  }
  if (a.string == StringOp::None) FUZZ_ASSERT(!a.rep && a.count == 1);
  if (a.direction == Direction::Copy) FUZZ_ASSERT(a.string == StringOp::Movs);

  // Prefix-closed: exactly `length` bytes decide the result.
  const Result exact = decode(bytes, a.length, mode, regs, rflags);
  FUZZ_ASSERT(exact.status == Status::Ok);
  FUZZ_ASSERT(same(exact.access, a));
  for (size_t n = 0; n < a.length; ++n) FUZZ_ASSERT(decode(bytes, n, mode, regs, rflags).status == Status::Truncated);
  return 0;
}
