#include "vtpm/migration/protocol/destination.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/crypto/duplicate.hpp"
#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/format/ack.hpp"
#include "vtpm/migration/format/offer.hpp"
#include "vtpm/migration/protocol/session_keys.hpp"

namespace mamori::vtpm::migration {

namespace {

constexpr size_t kDrbgTpmEntropy = 48;  // SP 800-90A CTR_DRBG(AES-256) seed length
constexpr size_t kOfferRecordLimit = 4096;
constexpr size_t kEpochRecordLimit = 64;
constexpr size_t kMaxOfferSize = 2048;
constexpr size_t kOfferRecordHeader = 1 + 4;

uint64_t now_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

Bytes bytes_of(protocol::ByteSpan s) { return Bytes(s.data, s.data + s.size); }

Refusal refusal_for(ParseError e) {
  return e == ParseError::kUnknownVersion ? Refusal::kUnknownVersion : Refusal::kMalformed;
}

}  // namespace

Destination::Destination(tpm::TpmClient& tpm, std::string state_dir) : tpm_(tpm), dir_(std::move(state_dir)) {
  make_dirs(dir_ + "/offers");
  make_dirs(dir_ + "/epochs");
  make_dirs(dir_ + "/acks");
}

std::string Destination::ack_path(const uint8_t vm[kVmIdSize]) const {
  return dir_ + "/acks/" + to_hex(vm, kVmIdSize);
}

Bytes Destination::last_ack(const uint8_t vm[kVmIdSize]) const {
  std::string path = ack_path(vm);
  if (!file_exists(path))
    throw MigrationError(Refusal::kState, "no migration of VM " + format_vm_id(vm) + " was accepted here");
  return read_file(path, kAckSize);
}

std::string Destination::offer_path(protocol::ByteSpan nonce) const {
  return dir_ + "/offers/" + to_hex(nonce.data, nonce.size);
}

std::string Destination::epoch_path(protocol::ByteSpan vm, protocol::ByteSpan source_name) const {
  return dir_ + "/epochs/" + to_hex(vm.data, vm.size) + "." + to_hex(source_name.data, source_name.size);
}

Bytes Destination::make_offer(const SrkSpec& spec) {
  Bytes entropy = tpm_.get_random(kDrbgTpmEntropy);
  crypto::Drbg rng(crypto::span(entropy));
  Bytes nonce = rng.generate(kNonceSize);
  Srk srk_obj(tpm_, spec);
  const tpm::LoadedKey& srk = srk_obj.key();
  Bytes offer(kMaxOfferSize);
  size_t n = write_offer(offer.data(), offer.size(), nonce.data(), crypto::span(srk.public_area),
                         crypto::span(srk.name));
  if (n == 0) throw MigrationError(Refusal::kState, "offer does not fit");
  offer.resize(n);
  // The outstanding-offer record: u8 kind, u32 persistent handle, the SRK Name.
  Bytes rec(kOfferRecordHeader + srk.name.size());
  protocol::ByteWriter w(rec.data(), rec.size());
  w.u8(static_cast<uint8_t>(spec.kind));
  w.u32(spec.handle);
  w.bytes(srk.name.data(), srk.name.size());
  write_file_atomic(offer_path(crypto::span(nonce)), rec);
  return offer;
}

ImportedState Destination::open_package(const Bytes& package, const uint8_t expected_vm[kVmIdSize],
                                        ImportTimings* timings) {
  PackageView v;
  ParseError pe = parse_package(package.data(), package.size(), v);
  if (pe != ParseError::kOk) throw MigrationError(refusal_for(pe), std::string("package ") + to_string(pe));
  const PackageHeader& h = v.header;
  protocol::ByteSpan nonce{h.nonce, kNonceSize};
  protocol::ByteSpan vm{h.vm_id, kVmIdSize};

  // 1. Addressed to this TPM? The outstanding offer for this nonce names
  //    the SRK; without one, compare with this TPM's SRKs of both kinds to
  //    tell "another TPM's package" from "a replay".
  std::string offer_file = offer_path(nonce);
  bool outstanding = file_exists(offer_file);
  SrkSpec spec;
  if (outstanding) {
    Bytes rec = read_file(offer_file, kOfferRecordLimit);
    protocol::ByteReader r(rec.data(), rec.size());
    uint8_t kind = r.u8();
    spec.handle = r.u32();
    protocol::ByteSpan name = r.bytes(r.remaining());
    if (!r.ok() || kind < static_cast<uint8_t>(SrkKind::kRsa2048) || kind > static_cast<uint8_t>(SrkKind::kPersistent))
      throw MigrationError(Refusal::kState, "corrupt offer record " + offer_file);
    spec.kind = static_cast<SrkKind>(kind);
    if (!crypto::equal(name, h.destination_name))
      throw MigrationError(Refusal::kWrongDestination,
                           "package is sealed to storage key " + to_hex(h.destination_name.data, h.destination_name.size) +
                               ", not to the key offered here");
  } else {
    // Not outstanding: is it this TPM's key at all (a replay), or another's?
    bool ours = false;
    for (SrkSpec s : {SrkSpec{SrkKind::kRsa2048, 0}, SrkSpec{SrkKind::kEccP256, 0},
                      SrkSpec{SrkKind::kPersistent, kDefaultSrkHandle}}) {
      try {
        Srk srk(tpm_, s);
        if (crypto::equal(crypto::span(srk.name()), h.destination_name)) ours = true;
      } catch (const tpm::TpmError&) {
        // no key at the default persistent handle: nothing to compare
      } catch (const MigrationError& e) {
        if (e.code() != Refusal::kState) throw;
      }
      if (ours) break;
    }
    if (!ours)
      throw MigrationError(Refusal::kWrongDestination,
                           "package is sealed to storage key " + to_hex(h.destination_name.data, h.destination_name.size) +
                               ", which is not this TPM's");
    throw MigrationError(Refusal::kReplayed,
                         "nonce " + to_hex(nonce.data, nonce.size) + " is not outstanding here (already consumed or never offered)");
  }

  // 2. The VM this host expects.
  if (!crypto::equal(vm, protocol::ByteSpan{expected_vm, kVmIdSize}))
    throw MigrationError(Refusal::kWrongVm, "package carries VM " + format_vm_id(h.vm_id) + ", expected " +
                                                format_vm_id(expected_vm));

  // 3. Rollback: the epoch must be newer than any accepted before for this
  //    VM from this source TPM.
  std::string epoch_file = epoch_path(vm, h.source_name);
  if (file_exists(epoch_file)) {
    Bytes rec = read_file(epoch_file, kEpochRecordLimit);
    std::string s(rec.begin(), rec.end());
    char* end = nullptr;
    errno = 0;
    uint64_t last = std::strtoull(s.c_str(), &end, 10);
    // A damaged record must not silently reopen rollback for this VM.
    if (s.empty() || errno != 0 || end != s.c_str() + s.size())
      throw MigrationError(Refusal::kState, "corrupt epoch record " + epoch_file);
    if (h.epoch <= last)
      throw MigrationError(Refusal::kStaleEpoch, "epoch " + std::to_string(h.epoch) +
                                                     " is not newer than the last accepted epoch " + std::to_string(last));
  }

  // 4. Recover K: TPM2_Import under the SRK, Load, Unseal (Part 3 §13.3,
  //    §12.2, §12.7). Transient objects are flushed on every path.
  uint64_t t0 = now_us();
  Srk srk_obj(tpm_, spec);
  const tpm::LoadedKey& srk = srk_obj.key();
  uint64_t t1 = now_us();
  if (!crypto::equal(crypto::span(srk.name), h.destination_name))
    throw MigrationError(Refusal::kWrongDestination, "this TPM's storage key changed since the offer");
  Bytes k;
  try {
    Bytes priv = tpm_.import(srk.handle, v.wrap.dup_public, v.wrap.dup_private, v.wrap.in_sym_seed);
    uint32_t obj = tpm_.load(srk.handle, crypto::span(priv), v.wrap.dup_public);
    ScopedHandle obj_h(tpm_, obj);
    k = tpm_.unseal(obj);
  } catch (const tpm::TpmError& e) {
    throw MigrationError(Refusal::kKeyUnwrapFailed,
                         std::string("the TPM refused the wrapped key (tampered, or not for this TPM): ") + e.what());
  }
  if (k.size() != kMigrationKeySize)
    throw MigrationError(Refusal::kKeyUnwrapFailed, "unsealed key has the wrong size");
  uint64_t t2 = now_us();

  // 5. Authenticate the header, then decrypt the state.
  SessionKeys keys = derive_session_keys(crypto::span(k), nonce, vm);
  Bytes mac = crypto::hmac_sha256(crypto::span(keys.header_key), v.mac_input);
  if (!crypto::equal(crypto::span(mac), v.header_mac))
    throw MigrationError(Refusal::kTamperedHeader, "header authentication failed: header or wrapped key modified");
  Bytes plain(static_cast<size_t>(v.state_size()));
  if (!crypto::aes256_gcm_decrypt(crypto::span(keys.state_key), protocol::ByteSpan{h.gcm_iv, kGcmIvSize}, v.aad, v.ciphertext,
                                  v.tag, plain.data()))
    throw MigrationError(Refusal::kTamperedCiphertext, "state authentication failed: ciphertext or tag modified");
  if (timings) *timings = {t1 - t0, t2 - t1, now_us() - t2};

  ImportedState s;
  auto at = plain.begin();
  s.permanent.assign(at, at + h.permanent_len);
  at += h.permanent_len;
  s.volatile_state.assign(at, at + h.volatile_len);
  at += h.volatile_len;
  s.savestate.assign(at, at + h.savestate_len);
  std::copy(h.vm_id, h.vm_id + kVmIdSize, s.vm_id);
  std::copy(h.nonce, h.nonce + kNonceSize, s.nonce);
  s.epoch = h.epoch;
  s.source_name = bytes_of(h.source_name);

  uint8_t body[kAckBodySize];
  write_ack_body(body, h.vm_id, h.nonce, h.epoch);
  Bytes ack_mac = crypto::hmac_sha256(crypto::span(keys.ack_key), protocol::ByteSpan{body, kAckBodySize});
  s.ack.assign(body, body + kAckBodySize);
  s.ack.insert(s.ack.end(), ack_mac.begin(), ack_mac.end());
  return s;
}

void Destination::commit(const ImportedState& s) {
  protocol::ByteSpan nonce{s.nonce, kNonceSize};
  // The ack first (it can be re-sent), then the epoch: if we crash between
  // the writes, a retry of the same package is refused as stale rather
  // than accepted twice.
  write_file_atomic(ack_path(s.vm_id), s.ack);
  write_file_atomic(epoch_path(protocol::ByteSpan{s.vm_id, kVmIdSize}, crypto::span(s.source_name)),
                    [&] {
                      std::string e = std::to_string(s.epoch);
                      return Bytes(e.begin(), e.end());
                    }());
  remove_file(offer_path(nonce));
}

}  // namespace mamori::vtpm::migration
