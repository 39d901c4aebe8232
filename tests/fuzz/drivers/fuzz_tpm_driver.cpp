// libFuzzer target: the platform TPM driver (drivers/tpm) against a device
// whose every register read comes from the fuzz input — a hostile or broken
// TPM. Both transports and the command layer's response parsers run on it.
// Invariants: no crash/UB, every call returns (the simulated clock bounds
// all waits), a successful transmit's response fits the buffer and its
// size field equals its length, a successful command's results are
// within their declared bounds.
#include <stdint.h>

#include <memory>

#include "drivers/tpm/crb_transport.hpp"
#include "drivers/tpm/tis_transport.hpp"
#include "drivers/tpm/tpm_commands.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"
#include "tests/fuzz/support/fuzz_input.hpp"
#include "vtpm/protocol/tpm_header.hpp"

using namespace mamori::drivers::tpm;

namespace {
using Input = mamori::fuzz::FuzzInput;

// Reads past the input's end give 0: a device that went quiet.
struct FuzzMmio final : TpmMmio {
  Input* in;
  explicit FuzzMmio(Input& i) : in(&i) {}
  uint8_t read8(uint64_t) override { return in->u8(); }
  uint32_t read32(uint64_t) override { return in->u32(); }
  void write8(uint64_t, uint8_t) override {}
  void write32(uint64_t, uint32_t) override {}
};

struct Clock final : TpmClock {
  uint64_t now = 0;
  uint64_t now_us() override { return now; }
  void sleep_us(uint32_t us) override { now += us; }
};

// Short timeouts keep each run fast; the logic is the same.
TpmTimeouts short_timeouts() {
  TpmTimeouts t;
  t.a_us = t.b_us = t.c_us = t.d_us = 200;
  t.command_us = 2000;
  return t;
}

uint8_t g_rsp[4096];
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  const uint8_t mode = in.u8();
  FuzzMmio mmio(in);
  Clock clock;
  TisTransport tis(mmio, clock, 0, short_timeouts());
  CrbTransport crb(mmio, clock, 0xFED40000, 0, short_timeouts());
  TpmTransport& t = (mode & 1) ? static_cast<TpmTransport&>(crb) : tis;
  auto cmds = std::make_unique<TpmCommands>(t);  // 5 KiB of buffers: not on the stack

  switch ((mode >> 1) & 3) {
    case 0: {  // raw transmit
      static const uint8_t kCmd[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8};
      size_t n = 0;
      TpmError e = t.transmit(kCmd, sizeof kCmd, g_rsp, (mode & 0x80) ? 16 : sizeof g_rsp, n);
      if (e == TpmError::None) {
        FUZZ_ASSERT(n >= mamori::vtpm::protocol::kTpmHeaderSize && n <= sizeof g_rsp);
        FUZZ_ASSERT(mamori::vtpm::protocol::header_size_field(g_rsp) == n);
      } else {
        FUZZ_ASSERT(n == 0);
      }
      break;
    }
    case 1: {
      uint8_t r[40];
      (void)cmds->get_random(r, sizeof r);
      TpmProperties p;
      if (cmds->get_properties(p).ok()) FUZZ_ASSERT(p.vendor[16] == 0 && p.manufacturer[4] == 0);
      break;
    }
    case 2: {
      PcrBanks b;
      if (cmds->get_pcr_banks(b).ok()) FUZZ_ASSERT(b.count <= kMaxPcrBanks);
      break;
    }
    case 3: {
      uint8_t d[64];
      size_t n = 0;
      if (cmds->pcr_read(0x000B, in.u8() % 24, d, sizeof d, n).ok()) FUZZ_ASSERT(n == 32);
      uint8_t z[32] = {};
      (void)cmds->pcr_extend(0, 0x000B, z, sizeof z);
      break;
    }
  }
  t.close();
  // Every wait is bounded: a run never takes longer than a few timeouts.
  FUZZ_ASSERT(clock.now < 1'000'000);
  return 0;
}
