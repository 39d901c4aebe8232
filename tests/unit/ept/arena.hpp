// A host-side FrameAllocator over one heap block, for tests and the bench.
// Frames get fake physical addresses (base + 4 KiB * index) that are not
// their host addresses, so mixing up phys and pointers shows. Freed frames
// are poisoned with "present" garbage so a use-after-free changes what the
// tables translate and the reference-model check notices. It can be told to
// run dry after N more allocations, to test the engine's out-of-memory path.
#pragma once

#include <stdint.h>

#include <vector>

#include "ept/frame_allocator.hpp"

namespace mamori::ept::test {

class Arena final : public FrameAllocator {
 public:
  static constexpr uint64_t kBase = 0x4'0000'0000ull;   // 16 GiB: distinct from small indices
  static constexpr uint64_t kPoison = 0xDEAD'BEEF'DEAD'BEEFull;

  explicit Arena(uint64_t frames) : mem_(frames * kEntries), used_(frames, false) {
    for (uint64_t i = frames; i-- > 0;) free_.push_back(i);
  }

  uint64_t alloc_zeroed_frame() override {
    if (budget_ == 0 || free_.empty()) return kNoFrame;
    if (budget_ > 0) --budget_;
    const uint64_t i = free_.back();
    free_.pop_back();
    used_[i] = true;
    for (unsigned j = 0; j < kEntries; ++j) mem_[i * kEntries + j] = 0;
    ++in_use_;
    ++allocs_;
    return kBase + i * kPageBytes;
  }

  void free_frame(uint64_t phys) override {
    const uint64_t i = index(phys);
    if (i >= used_.size() || !used_[i]) {
      ++bad_frees_;
      return;
    }
    used_[i] = false;
    for (unsigned j = 0; j < kEntries; ++j) mem_[i * kEntries + j] = kPoison;
    free_.push_back(i);
    --in_use_;
  }

  uint64_t* table(uint64_t phys) override {
    const uint64_t i = index(phys);
    if (i >= used_.size() || !used_[i]) {
      ++bad_accesses_;
      return &scratch_[0];   // keep going; the test reports bad_accesses()
    }
    return &mem_[i * kEntries];
  }

  bool owns(uint64_t phys) const {
    const uint64_t i = index(phys);
    return i < used_.size() && used_[i] && ((phys - kBase) % kPageBytes) == 0;
  }

  // -1: unlimited; n >= 0: n more allocations succeed, then kNoFrame.
  void set_budget(int64_t n) { budget_ = n; }
  uint64_t in_use() const { return in_use_; }
  uint64_t allocations() const { return allocs_; }
  uint64_t bad_frees() const { return bad_frees_; }
  uint64_t bad_accesses() const { return bad_accesses_; }

 private:
  static constexpr unsigned kEntries = 512;
  static constexpr uint64_t kPageBytes = 4096;
  static uint64_t index(uint64_t phys) { return phys < kBase ? ~uint64_t{0} : (phys - kBase) / kPageBytes; }

  std::vector<uint64_t> mem_;
  std::vector<bool> used_;
  std::vector<uint64_t> free_;
  uint64_t scratch_[kEntries] = {};
  int64_t budget_ = -1;
  uint64_t in_use_ = 0;
  uint64_t allocs_ = 0;
  uint64_t bad_frees_ = 0;
  uint64_t bad_accesses_ = 0;
};

}  // namespace mamori::ept::test
