// Fuzzes every parser a migration peer feeds with untrusted bytes: the
// package, the offer (with its TPMT_PUBLIC) and the ack. Checks the
// invariants a successful parse promises: all spans inside the input and
// the declared sizes adding up to the input length.
#include <stddef.h>
#include <stdint.h>

#include <initializer_list>

#include "vtpm/migration/format/ack.hpp"
#include "vtpm/migration/format/offer.hpp"
#include "vtpm/migration/format/package.hpp"

using namespace mamori::vtpm::migration;
namespace protocol = mamori::vtpm::protocol;

namespace {
void check_inside(protocol::ByteSpan s, const uint8_t* d, size_t n) {
  if (s.size == 0) return;
  if (s.data < d || s.data + s.size > d + n) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  PackageView v;
  if (parse_package(d, n, v) == ParseError::kOk) {
    for (protocol::ByteSpan s : {v.header.source_name, v.header.destination_name, v.wrap.dup_public, v.wrap.dup_private,
                       v.wrap.in_sym_seed, v.aad, v.mac_input, v.header_mac, v.ciphertext, v.tag})
      check_inside(s, d, n);
    if (v.aad.size + v.ciphertext.size + v.tag.size != n) __builtin_trap();
    if (v.ciphertext.size != v.state_size()) __builtin_trap();
  }
  OfferView o;
  if (parse_offer(d, n, o) == ParseError::kOk) {
    check_inside(o.nonce, d, n);
    check_inside(o.srk_public_raw, d, n);
    check_inside(o.srk_name, d, n);
    if (!o.srk_public.is_storage_parent()) __builtin_trap();
  }
  AckView a;
  if (parse_ack(d, n, a) == ParseError::kOk && n != kAckSize) __builtin_trap();
  return 0;
}
