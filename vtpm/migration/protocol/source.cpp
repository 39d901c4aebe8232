#include "vtpm/migration/protocol/source.hpp"

#include <chrono>

#include "vtpm/migration/crypto/crypto.hpp"
#include "vtpm/migration/crypto/duplicate.hpp"
#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/format/ack.hpp"
#include "vtpm/migration/format/offer.hpp"
#include "vtpm/migration/format/package.hpp"
#include "vtpm/migration/protocol/session_keys.hpp"

namespace mamori::vtpm::migration {

namespace {

constexpr size_t kDrbgTpmEntropy = 48;
constexpr uint32_t kPendingMagic = 0x4D4D5044;  // "MMPD"
constexpr size_t kPendingLimit = 3 * static_cast<size_t>(kMaxBlobSize) + 4096;
constexpr size_t kMaxOfferSize = 2048;

uint64_t now_us() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

void put_blob(protocol::ByteWriter& w, const Bytes& b) {
  w.u32(static_cast<uint32_t>(b.size()));
  w.bytes(b.data(), b.size());
}

bool get_blob(protocol::ByteReader& r, Bytes& b) {
  uint32_t n = r.u32();
  if (!r.ok() || n > kMaxBlobSize) return false;
  protocol::ByteSpan s = r.bytes(n);
  b.assign(s.data, s.data + s.size);
  return r.ok();
}

}  // namespace

Bytes encode_pending(const PendingMigration& p) {
  Bytes out(4 + 2 + kVmIdSize + kNonceSize + 8 + 2 + p.ack_key.size() + 12 + p.permanent.size() +
            p.volatile_state.size() + p.savestate.size());
  protocol::ByteWriter w(out.data(), out.size());
  w.u32(kPendingMagic);
  w.u16(kFormatVersion);
  w.bytes(p.vm_id, kVmIdSize);
  w.bytes(p.nonce, kNonceSize);
  w.u64(p.epoch);
  w.tpm2b(p.ack_key.data(), p.ack_key.size());
  put_blob(w, p.permanent);
  put_blob(w, p.volatile_state);
  put_blob(w, p.savestate);
  if (!w.ok() || w.size() != out.size()) throw MigrationError(Refusal::kState, "pending record does not encode");
  return out;
}

bool decode_pending(const Bytes& b, PendingMigration& p) {
  protocol::ByteReader r(b.data(), b.size());
  if (r.u32() != kPendingMagic || r.u16() != kFormatVersion) return false;
  protocol::ByteSpan vm = r.bytes(kVmIdSize);
  protocol::ByteSpan nonce = r.bytes(kNonceSize);
  p.epoch = r.u64();
  protocol::ByteSpan key = r.tpm2b(64);
  if (!r.ok()) return false;
  std::copy(vm.data, vm.data + kVmIdSize, p.vm_id);
  std::copy(nonce.data, nonce.data + kNonceSize, p.nonce);
  p.ack_key.assign(key.data, key.data + key.size);
  return get_blob(r, p.permanent) && get_blob(r, p.volatile_state) && get_blob(r, p.savestate) && r.at_end();
}

void restore_instance(tpm::ControlChannel& instance, const Bytes& permanent, const Bytes& volatile_state,
                      const Bytes& savestate) {
  // swtpm accepts SET_STATEBLOB only while the TPM is stopped; CMD_INIT
  // then resumes from the volatile state (as QEMU's incoming migration does).
  instance.stop();
  instance.set_state_blob(tpm::BlobType::permanent, permanent);
  if (!volatile_state.empty()) instance.set_state_blob(tpm::BlobType::volatile_state, volatile_state);
  if (!savestate.empty()) instance.set_state_blob(tpm::BlobType::savestate, savestate);
  instance.init(0);
}

Source::Source(tpm::TpmClient& tpm, std::string state_dir) : tpm_(tpm), dir_(std::move(state_dir)) {
  make_dirs(dir_ + "/pending");
}

std::string Source::pending_path(const uint8_t vm_id[kVmIdSize]) const {
  return dir_ + "/pending/" + to_hex(vm_id, kVmIdSize);
}

bool Source::has_pending(const uint8_t vm_id[kVmIdSize]) const { return file_exists(pending_path(vm_id)); }

PendingMigration Source::load_pending(const uint8_t vm_id[kVmIdSize]) const {
  std::string path = pending_path(vm_id);
  if (!file_exists(path))
    throw MigrationError(Refusal::kState, "no pending migration for VM " + format_vm_id(vm_id));
  PendingMigration p;
  if (!decode_pending(read_file(path, kPendingLimit), p))
    throw MigrationError(Refusal::kState, "corrupt pending record " + path);
  return p;
}

Bytes Source::export_vtpm(const Bytes& offer_bytes, tpm::ControlChannel& instance, const ExportOptions& opt,
                          ExportTimings* timings) {
  // 1. The offer: well-formed, a storage parent, and its Name really is
  //    the Name of that public area (Part 1 §16), so the header names the
  //    key that K is actually wrapped to.
  if (offer_bytes.size() > kMaxOfferSize) throw MigrationError(Refusal::kBadOffer, "offer over the size limit");
  OfferView offer;
  ParseError pe = parse_offer(offer_bytes.data(), offer_bytes.size(), offer);
  if (pe != ParseError::kOk) throw MigrationError(Refusal::kBadOffer, to_string(pe));
  Bytes name = crypto::object_name(offer.srk_public_raw);
  if (!crypto::equal(crypto::span(name), offer.srk_name))
    throw MigrationError(Refusal::kBadOffer, "offer's Name does not match its public area");
  if (has_pending(opt.vm_id))
    throw MigrationError(Refusal::kState, "VM " + format_vm_id(opt.vm_id) +
                                              " already has a pending migration: complete or resume it first");
  // swtpm's own --migration-key would encrypt every blob it hands out
  // (swtpm src/swtpm/swtpm_nvfile.c, GetStateBlob): the destination
  // instance could not use them. mamori seals the state itself.
  if (auto cfg = instance.get_config(); cfg && (*cfg & tpm::swtpm::kConfigFlagMigrationKey))
    throw MigrationError(Refusal::kVtpmError,
                         "the vTPM instance encrypts its state with swtpm --migration-key; start it without");

  // 2. This host's identity (its SRK Name) and the rollback epoch: the NV
  //    counter only moves forward (Part 3 §31.8 TPM2_NV_Increment), one
  //    step per migrate-out.
  uint64_t ts = now_us();
  Bytes source_name = Srk(tpm_, opt.source_srk).name();
  tpm_.nv_define_counter(opt.nv_index);
  tpm_.nv_increment(opt.nv_index);
  uint64_t epoch = tpm_.nv_read_counter(opt.nv_index);
  Bytes entropy = tpm_.get_random(kDrbgTpmEntropy);
  crypto::Drbg rng(crypto::span(entropy));

  // 3. K and its duplication blob first: anything that can fail on a bad
  //    offer fails while the instance still runs.
  uint64_t tw = now_us();
  Bytes k = rng.generate(kMigrationKeySize);
  SessionKeys keys = derive_session_keys(crypto::span(k), offer.nonce, protocol::ByteSpan{opt.vm_id, kVmIdSize});
  crypto::DuplicationBlob dup = crypto::wrap_to_parent(offer.srk_public, crypto::span(k), rng);
  uint64_t wrap_us = now_us() - tw;

  // 4. Lock and export: the blobs are read while the instance runs (swtpm
  //    serves GET_STATEBLOB only then), remembered in the pending record
  //    (so that `resume` is possible from here on), then the instance is
  //    stopped — it answers no guest command until resumed or deleted.
  uint64_t t0 = now_us();
  PendingMigration pending;
  std::copy(opt.vm_id, opt.vm_id + kVmIdSize, pending.vm_id);
  std::copy(offer.nonce.data, offer.nonce.data + kNonceSize, pending.nonce);
  pending.epoch = epoch;
  pending.ack_key = keys.ack_key;
  pending.permanent = instance.get_state_blob(tpm::BlobType::permanent).data;
  pending.volatile_state = instance.get_state_blob(tpm::BlobType::volatile_state).data;
  try {
    pending.savestate = instance.get_state_blob(tpm::BlobType::savestate).data;
  } catch (const MigrationError&) {
    pending.savestate.clear();  // no TPM2_Shutdown(STATE) was done: nothing to carry
  }
  if (pending.permanent.empty()) throw MigrationError(Refusal::kVtpmError, "vTPM returned no permanent state");
  write_file_atomic(pending_path(opt.vm_id), encode_pending(pending));
  instance.stop();
  uint64_t t1 = now_us();

  // 5. Seal the state under K, the header as additional data.
  PackageHeader h;
  std::copy(opt.vm_id, opt.vm_id + kVmIdSize, h.vm_id);
  std::copy(offer.nonce.data, offer.nonce.data + kNonceSize, h.nonce);
  h.source_name = crypto::span(source_name);
  h.destination_name = offer.srk_name;
  h.epoch = epoch;
  h.permanent_len = static_cast<uint32_t>(pending.permanent.size());
  h.volatile_len = static_cast<uint32_t>(pending.volatile_state.size());
  h.savestate_len = static_cast<uint32_t>(pending.savestate.size());
  rng.generate(h.gcm_iv, kGcmIvSize);
  WrappedKey wrap{crypto::span(dup.object_public), crypto::span(dup.duplicate), crypto::span(dup.in_sym_seed)};

  size_t state_size = pending.permanent.size() + pending.volatile_state.size() + pending.savestate.size();
  Bytes pkg(8192 + state_size + kGcmTagSize);
  size_t prefix = write_package_prefix(pkg.data(), pkg.size(), h, wrap);
  if (prefix == 0) throw MigrationError(Refusal::kState, "package header does not fit");
  Bytes mac = crypto::hmac_sha256(crypto::span(keys.header_key), protocol::ByteSpan{pkg.data(), prefix});
  std::copy(mac.begin(), mac.end(), pkg.begin() + static_cast<long>(prefix));
  size_t aad = prefix + mac.size();
  Bytes plain;
  plain.reserve(state_size);
  plain.insert(plain.end(), pending.permanent.begin(), pending.permanent.end());
  plain.insert(plain.end(), pending.volatile_state.begin(), pending.volatile_state.end());
  plain.insert(plain.end(), pending.savestate.begin(), pending.savestate.end());
  crypto::aes256_gcm_encrypt(crypto::span(keys.state_key), protocol::ByteSpan{h.gcm_iv, kGcmIvSize}, protocol::ByteSpan{pkg.data(), aad},
                             crypto::span(plain), pkg.data() + aad, pkg.data() + aad + state_size);
  pkg.resize(aad + state_size + kGcmTagSize);
  uint64_t t2 = now_us();
  if (timings) *timings = {tw - ts, t1 - t0, wrap_us + (t2 - t1)};
  return pkg;
}

PendingMigration Source::complete(const Bytes& ack_bytes) {
  AckView ack;
  ParseError pe = parse_ack(ack_bytes.data(), ack_bytes.size(), ack);
  if (pe != ParseError::kOk) throw MigrationError(Refusal::kBadAck, to_string(pe));
  PendingMigration p = load_pending(ack.vm_id);
  Bytes mac = crypto::hmac_sha256(crypto::span(p.ack_key), ack.body);
  if (!crypto::equal(protocol::ByteSpan{ack.nonce, kNonceSize}, protocol::ByteSpan{p.nonce, kNonceSize}) || ack.epoch != p.epoch ||
      !crypto::equal(crypto::span(mac), ack.mac))
    throw MigrationError(Refusal::kBadAck, "acknowledgement does not match the pending migration");
  remove_file(pending_path(ack.vm_id));
  return p;
}

void Source::resume(const uint8_t vm_id[kVmIdSize], tpm::ControlChannel& instance) {
  PendingMigration p = load_pending(vm_id);
  restore_instance(instance, p.permanent, p.volatile_state, p.savestate);
  remove_file(pending_path(vm_id));
}

}  // namespace mamori::vtpm::migration
