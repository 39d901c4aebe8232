#include "vtpm_engine.hpp"
#include <new>
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/lib/text.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/partition/process.hpp"
#include "vmm/vm/scheduler.hpp"
#include "vmm/vm/vcpu_msrs.hpp"
#include "vtpm/protocol/tpm_header.hpp"
#include "vtpm/protocol/frame_assembler.hpp"
#include "vtpm/protocol/partition_frame.hpp"

namespace mamori::partition {
namespace {
namespace protocol = vtpm::protocol;
constexpr size_t kFrameBufBytes = 256 * 1024;   // largest frame we accept: a state blob
constexpr size_t kStateCap = kFrameBufBytes - protocol::kFrameHeaderSize;
// Restarts without an answered command in between before an engine is
// left stopped (one that dies at start-up must not cost its CPU forever).
constexpr unsigned kMaxFailedRestarts = 3;

uint64_t frames_for(size_t bytes) { return (bytes + mem::kFrameSize - 1) / mem::kFrameSize; }

template <typename T>
T* alloc_object() {
  uint64_t phys = mem::alloc_frames(frames_for(sizeof(T)), 1);
  return phys ? new (mem::phys_to_virt<void>(phys)) T() : nullptr;
}

uint8_t* alloc_bytes(size_t n) {
  uint64_t phys = mem::alloc_frames(frames_for(n), 1);
  return phys ? mem::phys_to_virt<uint8_t>(phys) : nullptr;
}

}  // namespace

bool VtpmEngine::exchange(const uint8_t* frame, size_t len, uint8_t* rsp, size_t rsp_cap, size_t& rsp_len,
                          uint32_t& result, const uint8_t* payload, size_t payload_len) {
  rsp_len = 0;
  result = ~0u;
  proc_->deadline_tsc = budget_tsc_ ? cpu::rdtsc() + budget_tsc_ : 0;
  proc_->budget_ms = limits_.budget_ms;
  // Feed the frame in pieces of at most the process's input size: after
  // each, it runs until it has read everything and blocks again.
  size_t off = 0, total = len + payload_len;
  do {
    size_t k = total - off < kInputCap ? total - off : kInputCap;
    uint8_t piece[512];
    for (size_t done = 0; done < k;) {
      size_t n = k - done < sizeof piece ? k - done : sizeof piece;
      for (size_t i = 0; i < n; ++i) {
        size_t at = off + done + i;
        piece[i] = at < len ? frame[at] : payload[at - len];
      }
      if (!give_input(*proc_, piece, n)) {
        LOG_ERROR("vtpm %s: the process did not read its input: engine stopped", name_);
        running_ = false;
        return false;
      }
      done += n;
    }
    off += k;
    vm::release_fpu();  // the guest's FPU state is set aside; the process brings its own
    vm::release_guest_msrs();  // its SYSCALL needs the host's STAR/LSTAR/FMASK (vm/vcpu_msrs.hpp)
    ProcessState st = run_process(*proc_);
    if (st == ProcessState::Exited || st == ProcessState::Faulted) {
      running_ = false;
      break;
    }
  } while (off < total);
  // Take every frame it wrote. state_changed first is the protocol's rule:
  // they are kept before the response goes anywhere.
  protocol::FrameAssembler fa(frame_buf_, kFrameBufBytes);
  uint8_t chunk[512];
  size_t n;
  bool got_answer = false;
  while ((n = take_output(*proc_, chunk, sizeof chunk)) > 0) {
    size_t off = 0;
    while (off < n) {
      size_t used = 0;
      protocol::FrameAssembler::Status s = fa.feed(chunk + off, n - off, used);
      off += used;
      if (s == protocol::FrameAssembler::Status::error) {
        LOG_ERROR("vtpm %s: unframed output (%s): engine stopped", name_, protocol::frame_error_name(fa.error()));
        running_ = false;
        return false;
      }
      if (s == protocol::FrameAssembler::Status::need_more) continue;
      const protocol::FrameHeader& h = fa.header();
      switch (h.type) {
        case protocol::FrameType::state_changed:
          if (protocol::is_blob_type(h.arg) && h.length <= kStateCap) {
            unsigned t = h.arg - 1;
            for (size_t i = 0; i < h.length; ++i) state_[t][i] = fa.payload()[i];
            state_len_[t] = h.length;
          } else {
            LOG_ERROR("vtpm %s: state blob type %u of %u bytes not kept", name_, h.arg, h.length);
          }
          break;
        case protocol::FrameType::tpm_response:
          rsp_len = h.length <= rsp_cap ? h.length : 0;
          for (size_t i = 0; i < rsp_len; ++i) rsp[i] = fa.payload()[i];
          got_answer = true;
          break;
        case protocol::FrameType::result:
          result = h.length == 4 ? protocol::load_le32(fa.payload()) : ~0u;
          got_answer = true;
          break;
        default:
          break;
      }
      fa.next();
    }
  }
  return got_answer;
}

bool VtpmEngine::power_on() {
  running_ = true;
  size_t rl;
  uint32_t result;
  exchange(nullptr, 0, nullptr, 0, rl, result);  // start-up until it waits for its first frame
  if (!running_ || proc_->state != ProcessState::Blocked) {
    LOG_ERROR("vtpm %s: the engine did not come up", name_);
    running_ = false;
    return false;
  }
  // Committed state first (a restart); none: init manufactures a new TPM.
  for (unsigned t = 0; t < 2; ++t) {
    if (state_len_[t] == 0) continue;
    uint8_t h[protocol::kFrameHeaderSize];
    protocol::encode_frame_header({protocol::FrameType::set_state, static_cast<uint8_t>(t + 1), static_cast<uint32_t>(state_len_[t])},
                              h, sizeof h);
    if (!exchange(h, sizeof h, nullptr, 0, rl, result, state_[t], state_len_[t]) || result != 0) {
      LOG_ERROR("vtpm %s: the engine refused its committed state (blob type %u, result %u)", name_, t + 1, result);
      running_ = false;
      return false;
    }
  }
  uint8_t init[protocol::kFrameHeaderSize];
  protocol::encode_frame_header({protocol::FrameType::init, 0, 0}, init, sizeof init);
  if (!exchange(init, sizeof init, nullptr, 0, rl, result) || result != 0) {
    LOG_ERROR("vtpm %s: TPM power-on failed (result %u)", name_, result);
    running_ = false;
    return false;
  }
  return true;
}

bool VtpmEngine::start(const char* vm_name, const boot::LoadedFile& image, const Limits& limits) {
  lib::copy_str(name_, vm_name, sizeof name_);
  image_ = &image;
  limits_ = limits;
  uint64_t hz = drivers::tsc::hz();
  budget_tsc_ = limits.budget_ms && hz ? limits.budget_ms * (hz / 1000) : 0;
  proc_ = alloc_object<Process>();
  frame_buf_ = alloc_bytes(kFrameBufBytes);
  cmd_frame_ = alloc_bytes(protocol::kFrameHeaderSize + protocol::kMaxTpmCommand);
  for (auto& s : state_) s = alloc_bytes(kStateCap);
  if (!proc_ || !frame_buf_ || !cmd_frame_ || !state_[0] || !state_[1] || !state_[2]) {
    LOG_ERROR("vtpm %s: out of memory for the engine", name_);
    return false;
  }
  if (!create_process(*proc_, name_, mem::phys_to_virt<uint8_t>(image.phys), image.size, limits.memory_bytes, limits.env))
    return false;
  if (!power_on()) {
    destroy_process(*proc_);  // what it took while failing goes back to the pool
    return false;
  }
  LOG_INFO("vtpm %s: engine running (service partition): TPM manufactured, permanent state %zu bytes, %lu pages",
           name_, state_len_[0], proc_->frames);
  return true;
}

bool VtpmEngine::restart(const char* why) {
  if (!image_ || !proc_) return false;
  if (failed_restarts_ >= kMaxFailedRestarts) {
    if (failed_restarts_ == kMaxFailedRestarts)  // said once, not at every command of the guest
      LOG_ERROR("vtpm %s: engine %s, and %u restarts in a row answered nothing: left stopped (TPM_RC_FAILURE)",
                name_, why, failed_restarts_);
    failed_restarts_ = kMaxFailedRestarts + 1;
    return false;
  }
  ++failed_restarts_;
  ++restarts_;
  const bool committed = state_len_[0] != 0;
  uint64_t freed = destroy_process(*proc_);
  if (!create_process(*proc_, name_, mem::phys_to_virt<uint8_t>(image_->phys), image_->size, limits_.memory_bytes, limits_.env) ||
      !power_on()) {
    destroy_process(*proc_);
    LOG_ERROR("vtpm %s: engine %s and could not be restarted", name_, why);
    return false;
  }
  if (committed)
    LOG_WARN("vtpm %s: engine %s: restarted from its last committed state (permanent %zu bytes, volatile %zu bytes; "
             "%lu pages of the old process freed)",
             name_, why, state_len_[0], state_len_[1], freed);
  else
    LOG_WARN("vtpm %s: engine %s: restarted fresh (no committed state yet: a new TPM was manufactured; %lu pages of "
             "the old process freed)",
             name_, why, freed);
  return true;
}

bool VtpmEngine::reset() {
  if (!running_) return false;
  uint8_t init[protocol::kFrameHeaderSize];
  protocol::encode_frame_header({protocol::FrameType::init, 0, 0}, init, sizeof init);
  size_t rl;
  uint32_t result;
  if (!exchange(init, sizeof init, nullptr, 0, rl, result) || result != 0) {
    LOG_ERROR("vtpm %s: reset failed (result %u)", name_, result);
    return false;
  }
  LOG_INFO("vtpm %s: TPM reset (_TPM_Init)", name_);
  return true;
}

void VtpmEngine::submit(vtpm::SubmissionId id, uint8_t locality, const uint8_t* command, size_t len, uint8_t* rsp,
                        size_t cap, vtpm::TpmCompletion& done) {
  ++commands_;
  size_t rl = 0;
  uint32_t result;
  if (running_ && len <= protocol::kMaxTpmCommand) {
    uint8_t* frame = cmd_frame_;
    size_t h = protocol::encode_frame_header({protocol::FrameType::tpm_command, locality, static_cast<uint32_t>(len)}, frame,
                                         protocol::kFrameHeaderSize);
    for (size_t i = 0; i < len; ++i) frame[h + i] = command[i];
    if (!exchange(frame, h + len, rsp, cap, rl, result) || rl == 0) rl = 0;
  }
  if (rl == 0) {
    LOG_WARN("vtpm %s: no response from the engine: TPM_RC_FAILURE", name_);
    rl = vtpm::protocol::write_error_response(rsp, cap, vtpm::protocol::kTpmRcFailure);
    // A stopped engine (fault, exit, over budget, unframed output) is
    // replaced now, so the guest's next command finds a running one.
    if (!running_ && proc_) {
      const char* why = proc_->over_budget ? "over its CPU budget"
                        : proc_->state == ProcessState::Faulted ? "faulted"
                        : proc_->state == ProcessState::Exited  ? "exited"
                                                                : "stopped";
      restart(why);
    }
  } else {
    failed_restarts_ = 0;
  }
  done.complete(id, rl);
}

}  // namespace mamori::partition
