// libFuzzer target: random guest access sequences against the TIS model,
// with an engine that completes at random times with random (also bogus)
// responses. Invariants checked after every step:
//  - no crash, no UB (ASan/UBSan);
//  - buffer indices stay inside the fixed buffers;
//  - burstCount never promises more than the buffer holds or has left;
//  - STS of the active locality never sets the read-as-zero bits and its
//    flags agree with the state (Expect only in Reception, dataAvail only
//    with unread response bytes, commandReady only in Ready);
//  - what reaches the engine is a whole command whose header size is its length.
#include <stdint.h>
#include <stdlib.h>

#include <memory>
#include <string.h>

#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/tis/tis_device.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"
#include "tests/fuzz/support/fuzz_input.hpp"

using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::tis;

namespace {

using Input = mamori::fuzz::FuzzInput;

struct Engine final : TpmBackend {
  bool busy = false;
  SubmissionId id = 0;
  uint8_t* rsp = nullptr;
  size_t cap = 0;
  TpmCompletion* done = nullptr;
  void submit(SubmissionId i, uint8_t loc, const uint8_t* cmd, size_t len, uint8_t* r, size_t c,
              TpmCompletion& d) override {
    FUZZ_ASSERT(!busy);  // the model never has two commands in the engine
    FUZZ_ASSERT(loc < kNumLocalities);
    FUZZ_ASSERT(len >= kTpmHeaderSize && len <= kTpmBufferSize);
    FUZZ_ASSERT(header_size_field(cmd) == len);
    FUZZ_ASSERT(c == kTpmBufferSize);
    busy = true, id = i, rsp = r, cap = c, done = &d;
  }
  SubmissionId canceled = 0;  // the model gave up on this one (abort or cancel)
  void cancel(SubmissionId id) override { canceled = id; }
};

struct Irq final : InterruptSink {
  void set_level(bool, uint8_t vector) override { FUZZ_ASSERT(vector <= 0xF); }
};

constexpr uint8_t kSizes[] = {1, 2, 4, 8, 1, 4, 3, 0};
// Offsets a driver uses, so random inputs reach deep states quickly.
constexpr uint16_t kHot[] = {kAccess.offset, kIntEnable.offset, kIntStatus.offset, kSts.offset,
                             kSts.offset + 1, kSts.offset + 3, kDataFifo.offset, kXDataFifo.offset,
                             kIntVector.offset, kDidVid.offset};

void check(TisDevice& dev) {
  FUZZ_ASSERT(dev.command_received() <= kTpmBufferSize);
  FUZZ_ASSERT(dev.response_length() <= kTpmBufferSize);
  FUZZ_ASSERT(dev.response_read() <= dev.response_length());
  const uint32_t burst = dev.burst_count();
  switch (dev.state()) {
    case TisState::Ready:
    case TisState::Reception:
      FUZZ_ASSERT(burst <= kTpmBufferSize - dev.command_received());
      break;
    case TisState::Completion:
      FUZZ_ASSERT(burst == dev.response_length() - dev.response_read());
      break;
    default:
      FUZZ_ASSERT(burst == 0);
  }
  const uint8_t loc = dev.active_locality();
  if (loc == kNoLocality) return;
  const uint32_t s = static_cast<uint32_t>(dev.mmio_read(loc * kLocalityStride + kSts.offset, 4));
  FUZZ_ASSERT((s & sts::kReadZero) == 0);
  FUZZ_ASSERT(((s >> sts::kBurstCountShift) & 0xFFFF) == burst);
  if (s & sts::kExpect) FUZZ_ASSERT(dev.state() == TisState::Reception);
  if (s & sts::kCommandReady) FUZZ_ASSERT(dev.state() == TisState::Ready);
  FUZZ_ASSERT(((s & sts::kDataAvail) != 0) ==
              (dev.state() == TisState::Completion && dev.response_read() < dev.response_length()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Irq irq;
  auto engine = std::make_unique<Engine>();
  static uint8_t shadow[kTpmBufferSize];
  size_t shadow_len = 0;
  Input in{data, size};
  TisConfig cfg;
  cfg.locality_mask = in.u8();  // also lets the guest reach locality 4 or lose others
  auto dev = std::make_unique<TisDevice>(*engine, &irq, cfg);

  while (in.n) {
    const uint8_t op = in.u8();
    const uint8_t loc = (op >> 4) % 6;  // 5 = beyond the window
    const uint16_t off = (op & 8) ? kHot[in.u8() % (sizeof kHot / sizeof kHot[0])] : (in.u16() & 0xFFF);
    const uint8_t sz = kSizes[in.u8() & 7];
    const uint64_t addr = loc * kLocalityStride + off;
    switch (op & 7) {
      case 0:
      case 1:
        dev->mmio_read(addr, sz);
        break;
      case 2:
      case 3:
        dev->mmio_write(addr, sz, in.u64());
        break;
      case 4: {  // engine finishes, with random bytes and a random length
        if (!engine->busy) break;
        const size_t fill = in.u16() % (kTpmBufferSize + 1);
        for (size_t i = 0; i < fill && i < engine->cap; ++i) engine->rsp[i] = in.u8();
        if (in.u8() & 1 && fill >= kTpmHeaderSize) store_be32(engine->rsp + 2, static_cast<uint32_t>(fill));
        const size_t len = (in.u8() & 1) ? fill : in.u16();
        engine->busy = false;
        // What a well-formed response must read back as, byte for byte.
        shadow_len = 0;
        if (engine->id != engine->canceled && len <= kTpmBufferSize && len >= kTpmHeaderSize &&
            header_size_field(engine->rsp) == len) {
          memcpy(shadow, engine->rsp, len);
          shadow_len = len;
        }
        engine->done->complete(engine->id, len);
        if (dev->state() != TisState::Completion || dev->response_length() != shadow_len) shadow_len = 0;
        break;
      }
      case 5: {  // a completion for an id the engine does not hold
        const SubmissionId id = in.u8();
        if (!(engine->busy && id == engine->id)) dev->complete(id, in.u16());
        break;
      }
      case 6:
        if (in.u8() == 0xA5) dev->reset();
        break;
      case 7:
        if (op & 8) {  // read the next response byte and compare with the engine's
          const uint8_t l = dev->active_locality();
          if (l == kNoLocality || dev->state() != TisState::Completion) break;
          const size_t pos = dev->response_read();
          const uint8_t b = static_cast<uint8_t>(dev->mmio_read(l * kLocalityStride + kDataFifo.offset, 1));
          if (shadow_len != 0 && pos < shadow_len) FUZZ_ASSERT(b == shadow[pos]);
          if (pos >= dev->response_length()) FUZZ_ASSERT(b == 0xFF);
          break;
        }
        [[fallthrough]];
      default: {  // a burst of FIFO bytes from the active locality
        const uint8_t l = dev->active_locality() == kNoLocality ? 0 : dev->active_locality();
        const uint16_t n = in.u8();
        for (uint16_t i = 0; i < n && in.n; ++i) dev->mmio_write(l * kLocalityStride + kDataFifo.offset, 1, in.u8());
        break;
      }
    }
    // The shadow describes only the response now in Completion.
    if (dev->state() != TisState::Completion) shadow_len = 0;
    check(*dev);
  }
  return 0;
}
