#include "vtpm/service/state/tpm_counter.hpp"

#include <cstdlib>
#include <exception>

#include "vtpm/migration/tpm/tpm_client.hpp"
#include "vtpm/migration/tpm/transport.hpp"

namespace mamori::vtpm::state {

namespace {

namespace tpm = migration::tpm;

class TpmCounter final : public MonotonicCounter {
 public:
  TpmCounter(std::unique_ptr<tpm::Transport> t, uint32_t index)
      : transport_(std::move(t)), client_(*transport_), index_(index) {}

  // A counter that was just defined has no value until its first
  // increment (TPM_RC_NV_UNINITIALIZED), so definition increments once.
  bool define(std::string& err) {
    return guarded(err, [&] {
      if (client_.nv_define_counter(index_)) client_.nv_increment(index_);
    });
  }
  bool read(uint64_t& value, std::string& err) override {
    return guarded(err, [&] { value = client_.nv_read_counter(index_); });
  }
  bool increment(std::string& err) override {
    return guarded(err, [&] { client_.nv_increment(index_); });
  }

 private:
  template <typename F>
  static bool guarded(std::string& err, F f) {
    try {
      f();
      return true;
    } catch (const std::exception& e) {
      err = e.what();
      return false;
    }
  }

  std::unique_ptr<tpm::Transport> transport_;
  tpm::TpmClient client_;
  uint32_t index_;
};

}  // namespace

std::unique_ptr<MonotonicCounter> open_tpm_counter(const std::string& spec, std::string& err) {
  const size_t comma = spec.rfind(',');
  if (comma == std::string::npos) {
    err = "--monotonic-counter needs TRANSPORT,INDEX (e.g. device:/dev/tpmrm0,0x01500100)";
    return nullptr;
  }
  char* end = nullptr;
  const unsigned long index = std::strtoul(spec.c_str() + comma + 1, &end, 0);
  if (end == spec.c_str() + comma + 1 || *end != '\0' || (index >> 24) != 0x01) {
    err = "--monotonic-counter: '" + spec.substr(comma + 1) + "' is not an NV index (0x01xxxxxx)";
    return nullptr;
  }
  std::unique_ptr<TpmCounter> c;
  try {
    c = std::make_unique<TpmCounter>(tpm::open_transport(spec.substr(0, comma)), static_cast<uint32_t>(index));
  } catch (const std::exception& e) {
    err = std::string("--monotonic-counter: ") + e.what();
    return nullptr;
  }
  if (!c->define(err)) {
    err = "--monotonic-counter: " + err;
    return nullptr;
  }
  return c;
}

}  // namespace mamori::vtpm::state
