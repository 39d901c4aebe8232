// A scripted TpmBackend for register-level tests: it records submissions
// and cancels and completes only when the test says so, with the bytes the
// test chooses.
#pragma once

#include <string.h>

#include <vector>

#include "vtpm/common/tpm_backend.hpp"

namespace mamori::test {

class FakeBackend final : public vtpm::TpmBackend {
 public:
  struct Submission {
    vtpm::SubmissionId id;
    uint8_t locality;
    std::vector<uint8_t> command;
    uint8_t* response;
    size_t response_cap;
    vtpm::TpmCompletion* done;
  };

  void submit(vtpm::SubmissionId id, uint8_t locality, const uint8_t* command, size_t len,
              uint8_t* response, size_t cap, vtpm::TpmCompletion& done) override {
    submissions.push_back({id, locality, std::vector<uint8_t>(command, command + len), response, cap, &done});
  }
  void cancel(vtpm::SubmissionId id) override { cancels.push_back(id); }

  // Completes submission `index` with `bytes` (copied into the model's
  // response buffer, truncated to its capacity) and reports `len` bytes.
  void finish(size_t index, const std::vector<uint8_t>& bytes, size_t len) {
    Submission& s = submissions.at(index);
    memcpy(s.response, bytes.data(), bytes.size() < s.response_cap ? bytes.size() : s.response_cap);
    s.done->complete(s.id, len);
  }
  void finish(size_t index, const std::vector<uint8_t>& bytes) { finish(index, bytes, bytes.size()); }

  std::vector<Submission> submissions;
  std::vector<vtpm::SubmissionId> cancels;
};

class RecordingIrq final : public vtpm::InterruptSink {
 public:
  void set_level(bool asserted, uint8_t vector) override {
    level = asserted;
    last_vector = vector;
    ++edges;
  }
  bool level = false;
  uint8_t last_vector = 0;
  int edges = 0;
};

// A well-formed response: header with `rc`, then `payload`.
inline std::vector<uint8_t> make_response(uint32_t rc, const std::vector<uint8_t>& payload = {}) {
  std::vector<uint8_t> r = {0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
  r.insert(r.end(), payload.begin(), payload.end());
  const uint32_t n = static_cast<uint32_t>(r.size());
  r[2] = static_cast<uint8_t>(n >> 24);
  r[3] = static_cast<uint8_t>(n >> 16);
  r[4] = static_cast<uint8_t>(n >> 8);
  r[5] = static_cast<uint8_t>(n);
  r[6] = static_cast<uint8_t>(rc >> 24);
  r[7] = static_cast<uint8_t>(rc >> 16);
  r[8] = static_cast<uint8_t>(rc >> 8);
  r[9] = static_cast<uint8_t>(rc);
  return r;
}

}  // namespace mamori::test
