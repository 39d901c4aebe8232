// libFuzzer target: random access sequences against the CRB model with an
// engine completing at random times (also with bogus lengths). Invariants:
// no crash/UB; START reads 1 exactly while a command executes; tpmIdle
// exactly in Idle; what reaches the engine lies inside the data buffer and
// its header size equals its length; localities stay in range.
#include <stdint.h>
#include <stdlib.h>

#include <memory>

#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/crb/crb_device.hpp"
#include "tests/fuzz/support/fuzz_assert.hpp"
#include "tests/fuzz/support/fuzz_input.hpp"

using namespace mamori::vtpm;
using namespace mamori::vtpm::protocol;
using namespace mamori::vtpm::crb;

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
    FUZZ_ASSERT(!busy);
    FUZZ_ASSERT(loc < kNumLocalities);
    FUZZ_ASSERT(len >= kTpmHeaderSize && len <= kBufferPageSize);
    FUZZ_ASSERT(header_size_field(cmd) == len);
    busy = true, id = i, rsp = r, cap = c, done = &d;
  }
  SubmissionId canceled = 0;  // the model gave up on this one (abort or cancel)
  void cancel(SubmissionId id) override { canceled = id; }
};

constexpr uint8_t kSizes[] = {1, 2, 4, 8, 4, 4, 3, 0};
constexpr uint16_t kHot[] = {kLocState.offset, kLocCtrl.offset, kLocSts.offset, kCtrlReq.offset,
                             kCtrlSts.offset, kCtrlCancel.offset, kCtrlStart.offset, kIntEnable.offset,
                             kIntSts.offset, kDataBuffer, kDataBuffer + 2, kDataBuffer + 4};

void check(CrbDevice& dev) {
  const uint8_t loc = dev.active_locality();
  FUZZ_ASSERT(loc == kNoLocality || loc < kNumLocalities);
  if (loc == kNoLocality) return;
  const uint64_t base = loc * kLocalityStride;
  const uint32_t start = static_cast<uint32_t>(dev.mmio_read(base + kCtrlStart.offset, 4));
  FUZZ_ASSERT(((start & kStartInvoke) != 0) == (dev.state() == CrbState::Execution));
  const uint32_t st = static_cast<uint32_t>(dev.mmio_read(base + kCtrlSts.offset, 4));
  FUZZ_ASSERT(((st & ctrl_sts::kTpmIdle) != 0) == (dev.state() == CrbState::Idle));
  FUZZ_ASSERT((st & ctrl_sts::kTpmSts) == 0);
  const uint32_t ls = static_cast<uint32_t>(dev.mmio_read(base + kLocState.offset, 4));
  FUZZ_ASSERT(((ls >> loc_state::kActiveLocalityShift) & 7) == loc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto engine = std::make_unique<Engine>();
  Input in{data, size};
  CrbConfig cfg;
  const uint8_t mode = in.u8();
  cfg.locality_mask = mode & 0x1F;
  if (mode & 0x80) cfg.buffer_page_gpa = 0x7F000000;  // buffer in its own guest page
  auto dev = std::make_unique<CrbDevice>(*engine, nullptr, cfg);

  while (in.n) {
    const uint8_t op = in.u8();
    const uint8_t loc = (op >> 4) % 6;
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
      case 4: {
        if (!engine->busy) break;
        const size_t fill = in.u16() % (kTpmBufferSize + 1);
        for (size_t i = 0; i < fill && i < engine->cap; ++i) engine->rsp[i] = in.u8();
        if (in.u8() & 1 && fill >= kTpmHeaderSize) store_be32(engine->rsp + 2, static_cast<uint32_t>(fill));
        const size_t len = (in.u8() & 1) ? fill : in.u16();
        engine->busy = false;
        const bool well_formed = engine->id != engine->canceled && len >= kTpmHeaderSize &&
                                 len <= dev->buffer_size() &&
                                 header_size_field(engine->rsp) == len;
        const SubmissionId id = engine->id;
        engine->done->complete(id, len);
        // A well-formed response for the command the guest waits on lands
        // in the data buffer byte for byte.
        const uint8_t l = dev->active_locality();
        if (well_formed && dev->state() == CrbState::Completion && l != kNoLocality) {
          for (size_t i = 0; i < len; ++i) {
            const uint8_t b = dev->separate_buffer()
                                  ? dev->buffer_page()[i]
                                  : static_cast<uint8_t>(dev->mmio_read(l * kLocalityStride + kDataBuffer + i, 1));
            FUZZ_ASSERT(b == engine->rsp[i]);
          }
        }
        break;
      }
      case 5: {  // a completion for an id the engine does not hold
        const SubmissionId id = in.u8();
        if (!(engine->busy && id == engine->id)) dev->complete(id, in.u16());
        break;
      }
      case 6:
        if (op & 8) {  // the guest writes its mapped buffer page directly
          if (!dev->separate_buffer()) break;
          const uint16_t at = in.u16() & (kBufferPageSize - 1);
          dev->buffer_page()[at] = in.u8();
          if (in.u8() & 1) {
            dev->buffer_page()[0] = 0x80, dev->buffer_page()[1] = 0x01;
            store_be32(dev->buffer_page() + 2, in.u16() % 80);
          }
        } else if (in.u8() == 0xA5) {
          dev->reset();
        }
        break;
      default: {  // a command header written into the active locality's buffer
        const uint8_t l = dev->active_locality() == kNoLocality ? 0 : dev->active_locality();
        const uint64_t b = l * kLocalityStride + kDataBuffer;
        dev->mmio_write(b, 2, 0x0180);
        // Bytes 2..5 = 00 00 00 n: a big-endian command size n in 0..79.
        dev->mmio_write(b + 2, 4, uint64_t{static_cast<uint8_t>(in.u8() % 80)} << 24);
        break;
      }
    }
    check(*dev);
  }
  return 0;
}
