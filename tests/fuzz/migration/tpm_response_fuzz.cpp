// Fuzzes the physical-TPM client's response parsing: the input chooses a
// command and supplies the TPM's responses. A response the client cannot
// trust must end in MigrationError or TpmError — never a crash, a hang or
// another exception.
#include <fuzzer/FuzzedDataProvider.h>

#include <deque>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm/tpm_client.hpp"
#include "vtpm/migration/tpm2/public_area.hpp"

using namespace mamori::vtpm::migration;
namespace protocol = mamori::vtpm::protocol;

namespace {

class FuzzTransport : public tpm::Transport {
 public:
  explicit FuzzTransport(FuzzedDataProvider& p) : p_(p) {}
  tpm::Bytes transact(protocol::ByteSpan) override {
    if (++calls_ > kMaxCalls) throw MigrationError(Refusal::kTransport, "too many calls");
    bool fix_header = p_.ConsumeBool();
    size_t n = p_.ConsumeIntegralInRange<size_t>(0, 1024);
    tpm::Bytes r = p_.ConsumeBytes<uint8_t>(n);
    // Usually make the header consistent (tag, size, success) so that the
    // fuzzer spends its time in the body parsers, not the framing check.
    if (fix_header && r.size() >= 10) {
      r[0] = 0x80;
      r[1] = (r[1] & 1) ? 0x02 : 0x01;
      for (int i = 0; i < 4; ++i) r[2 + i] = static_cast<uint8_t>(r.size() >> (24 - 8 * i));
      if (r[6] & 1) r[6] = r[7] = r[8] = r[9] = 0;
    }
    return r;
  }
  std::string describe() const override { return "fuzz"; }

 private:
  static constexpr int kMaxCalls = 64;
  FuzzedDataProvider& p_;
  int calls_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  FuzzedDataProvider p(d, n);
  FuzzTransport t(p);
  tpm::TpmClient c(t);
  c.set_retry_policy(3, 0);  // retries are exercised, without sleeping
  const uint8_t dummy[8] = {};
  try {
    switch (p.ConsumeIntegralInRange<int>(0, 11)) {
      case 0: c.get_random(p.ConsumeIntegralInRange<size_t>(1, 100)); break;
      case 1: c.create_primary(tpm2::srk_template_rsa2048()); break;
      case 2: c.read_public(0x81000001); break;
      case 3: c.import(0x80000000, {dummy, 8}, {dummy, 8}, {dummy, 8}); break;
      case 4: c.load(0x80000000, {dummy, 8}, {dummy, 8}); break;
      case 5: c.unseal(0x80000001); break;
      case 6: c.flush(0x80000001); break;
      case 7: c.nv_read_counter(0x01500000); break;
      case 8: c.nv_attributes(0x01500000); break;
      case 9: c.nv_define_counter(0x01500000); break;
      case 10: c.start_policy_session(); break;
      case 11: c.policy_get_digest(0x03000000); break;
    }
  } catch (const MigrationError&) {
  } catch (const tpm::TpmError&) {
  }
  return 0;
}
