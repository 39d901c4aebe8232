// vtpm-migrate: the migration protocol on a Linux host (docs/migration.md).
//
//   destination: vtpm-migrate offer    --tpm T --state-dir D [--key ecc|rsa|0x81xxxxxx] --out OFFER
//   source:      vtpm-migrate export   --tpm T --state-dir S --offer OFFER --vtpm CTRL
//                                      --vm-id UUID --nv-index IDX [--key ecc|rsa|0x81xxxxxx] --out PKG
//   destination: vtpm-migrate import   --tpm T --state-dir D --package PKG --vtpm CTRL
//                                      --vm-id UUID --ack-out ACK
//   destination: vtpm-migrate ack      --state-dir D --vm-id UUID --out ACK   (send a lost ack again)
//   source:      vtpm-migrate complete --state-dir S --ack ACK [--vtpm CTRL] [--wipe-swtpm-state DIR]
//   source:      vtpm-migrate resume   --state-dir S --vm-id UUID --vtpm CTRL
//   anyone:      vtpm-migrate inspect  FILE
//   bench:       vtpm-migrate raw-export --vtpm CTRL --out FILE
//                vtpm-migrate raw-import --vtpm CTRL --in FILE
//                (swtpm's own state transfer, for comparison: with a
//                --migration-key swtpm encrypts the blobs itself)
//
// offer, export and import take --owner-auth-file FILE when the TPM's owner
// hierarchy has an authValue.
// T is swtpm:HOST:PORT or device:/dev/tpmrm0; CTRL is HOST:PORT or
// unix:PATH of the vTPM's control channel. Exit status: 0 done, 2 refused
// (the reason on stderr, prefixed "refused: <code>:"), 1 other failure,
// 64 usage.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/files.hpp"
#include "vtpm/migration/format/ack.hpp"
#include "vtpm/migration/format/offer.hpp"
#include "vtpm/migration/format/package.hpp"
#include "vtpm/migration/protocol/destination.hpp"
#include "vtpm/migration/protocol/source.hpp"
#include "vtpm/migration/tpm/tpm_client.hpp"
#include "vtpm/migration/tpm2/constants.hpp"

using namespace mamori::vtpm::migration;
namespace protocol = mamori::vtpm::protocol;

namespace {

constexpr int kExitRefused = 2;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 64;
constexpr size_t kOfferFileLimit = 4096;
constexpr size_t kAckFileLimit = 4096;
constexpr size_t kMaxOwnerAuth = 32;  // TPM2B_AUTH: at most the size of the owner's nameAlg digest

using Args = std::map<std::string, std::string>;

int usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  vtpm-migrate offer    --tpm T --state-dir D [--key ecc|rsa|0x81xxxxxx] --out OFFER\n"
               "  vtpm-migrate export   --tpm T --state-dir S --offer OFFER --vtpm CTRL --vm-id UUID\n"
               "                        --nv-index IDX [--key ecc|rsa|0x81xxxxxx] --out PKG [--timing]\n"
               "  vtpm-migrate import   --tpm T --state-dir D --package PKG --vtpm CTRL --vm-id UUID\n"
               "                        --ack-out ACK [--timing]\n"
               "  vtpm-migrate ack      --state-dir D --vm-id UUID --out ACK\n"
               "  vtpm-migrate complete --state-dir S --ack ACK [--vtpm CTRL] [--wipe-swtpm-state DIR]\n"
               "  vtpm-migrate resume   --state-dir S --vm-id UUID --vtpm CTRL\n"
               "  vtpm-migrate inspect  FILE\n"
               "  vtpm-migrate raw-export --vtpm CTRL --out FILE\n"
               "  vtpm-migrate raw-import --vtpm CTRL --in FILE\n"
               "T: swtpm:HOST:PORT | device:/dev/tpmrm0   CTRL: HOST:PORT | unix:PATH\n"
               "offer/export/import accept --owner-auth-file FILE (the owner hierarchy's authValue)\n");
  return kExitUsage;
}

const std::string& need(const Args& a, const char* key) {
  auto it = a.find(key);
  if (it == a.end() || it->second.empty())
    throw MigrationError(Refusal::kUsage, std::string("missing --") + key);
  return it->second;
}

std::string opt(const Args& a, const char* key, const char* dflt) {
  auto it = a.find(key);
  return it == a.end() ? dflt : it->second;
}

void vm_id_arg(const Args& a, uint8_t out[kVmIdSize]) {
  if (!parse_vm_id(need(a, "vm-id"), out)) throw MigrationError(Refusal::kUsage, "--vm-id must be a UUID");
}

uint64_t now_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// The owner hierarchy's authValue, if the TPM has one: read from a file
// (never from the command line, where other users could see it).
void apply_owner_auth(const Args& a, tpm::TpmClient& tpm) {
  auto it = a.find("owner-auth-file");
  if (it == a.end()) return;
  Bytes auth = read_file(it->second, kMaxOwnerAuth + 1);
  while (!auth.empty() && (auth.back() == '\n' || auth.back() == '\r')) auth.pop_back();
  if (auth.size() > kMaxOwnerAuth) throw MigrationError(Refusal::kUsage, "owner authValue longer than a SHA-256 digest");
  tpm.set_owner_auth(std::move(auth));
}

int cmd_offer(const Args& a) {
  auto t = tpm::open_transport(need(a, "tpm"));
  tpm::TpmClient tpm(*t);
  apply_owner_auth(a, tpm);
  Destination d(tpm, need(a, "state-dir"));
  Bytes offer = d.make_offer(parse_srk_spec(opt(a, "key", "ecc")));
  write_file_atomic(need(a, "out"), offer);
  std::printf("offer written: %zu bytes\n", offer.size());
  return 0;
}

int cmd_export(const Args& a) {
  ExportOptions o;
  vm_id_arg(a, o.vm_id);
  unsigned long idx = std::strtoul(need(a, "nv-index").c_str(), nullptr, 0);
  if (idx < tpm2::kNvIndexFirst || idx > tpm2::kNvIndexLast)
    throw MigrationError(Refusal::kUsage, "--nv-index must be an NV index handle (0x01000000..0x01FFFFFF)");
  o.nv_index = static_cast<uint32_t>(idx);
  o.source_srk = parse_srk_spec(opt(a, "key", "ecc"));
  Bytes offer = read_file(need(a, "offer"), kOfferFileLimit);
  auto t = tpm::open_transport(need(a, "tpm"));
  tpm::TpmClient tpm(*t);
  apply_owner_auth(a, tpm);
  Source s(tpm, need(a, "state-dir"));
  tpm::ControlChannel inst(need(a, "vtpm"));
  ExportTimings tm;
  uint64_t t0 = now_us();
  Bytes pkg = s.export_vtpm(offer, inst, o, &tm);
  uint64_t t1 = now_us();
  write_file_atomic(need(a, "out"), pkg);
  std::printf("package written: %zu bytes\n", pkg.size());
  if (a.count("timing"))
    std::printf("timing setup_us=%llu export_us=%llu seal_wrap_us=%llu total_us=%llu\n",
                (unsigned long long)tm.setup_us, (unsigned long long)tm.export_us,
                (unsigned long long)tm.seal_wrap_us, (unsigned long long)(t1 - t0));
  return 0;
}

int cmd_import(const Args& a) {
  uint8_t vm[kVmIdSize];
  vm_id_arg(a, vm);
  Bytes pkg = read_file(need(a, "package"), kMaxPackageSize);
  auto t = tpm::open_transport(need(a, "tpm"));
  tpm::TpmClient tpm(*t);
  apply_owner_auth(a, tpm);
  Destination d(tpm, need(a, "state-dir"));
  std::string ack_out = need(a, "ack-out");
  tpm::ControlChannel inst(need(a, "vtpm"));
  ImportTimings it;
  uint64_t t0 = now_us();
  ImportedState st = d.open_package(pkg, vm, &it);
  uint64_t t1 = now_us();
  restore_instance(inst, st.permanent, st.volatile_state, st.savestate);
  uint64_t t2 = now_us();
  d.commit(st);
  write_file_atomic(ack_out, st.ack);
  std::printf("imported VM %s epoch %llu (%zu bytes of state)\n", format_vm_id(st.vm_id).c_str(),
              (unsigned long long)st.epoch, st.permanent.size() + st.volatile_state.size() + st.savestate.size());
  if (a.count("timing"))
    std::printf("timing open_us=%llu srk_us=%llu unwrap_us=%llu verify_us=%llu restore_us=%llu\n",
                (unsigned long long)(t1 - t0), (unsigned long long)it.srk_us, (unsigned long long)it.unwrap_us,
                (unsigned long long)it.verify_us, (unsigned long long)(t2 - t1));
  return 0;
}

struct NoTransport : tpm::Transport {  // for commands that need no TPM
  tpm::Bytes transact(protocol::ByteSpan) override { throw MigrationError(Refusal::kUsage, "no TPM needed"); }
  std::string describe() const override { return "none"; }
};

int cmd_ack(const Args& a) {
  uint8_t vm[kVmIdSize];
  vm_id_arg(a, vm);
  NoTransport none;
  tpm::TpmClient tpm(none);
  Destination d(tpm, need(a, "state-dir"));
  write_file_atomic(need(a, "out"), d.last_ack(vm));
  std::printf("acknowledgement for VM %s written\n", format_vm_id(vm).c_str());
  return 0;
}

// The state files swtpm keeps in its --tpmstate directory (swtpm's
// swtpm_nvfile.c naming for TPM 2: tpm2-00.<blob>). Overwritten, then
// removed: the migrated VM's secrets must not stay on the source.
void wipe_swtpm_state(const std::string& dir) {
  for (const char* name : {"tpm2-00.permall", "tpm2-00.volatilestate", "tpm2-00.savestate"}) {
    std::string path = dir + "/" + name;
    if (!file_exists(path)) continue;
    size_t size = read_file(path, 3 * kMaxBlobSize).size();
    FILE* f = std::fopen(path.c_str(), "r+b");
    if (!f) throw MigrationError(Refusal::kState, "cannot open " + path + " to wipe it");
    Bytes zeros(size, 0);
    bool ok = std::fwrite(zeros.data(), 1, zeros.size(), f) == zeros.size() && std::fflush(f) == 0 &&
              fsync(fileno(f)) == 0;
    std::fclose(f);
    if (!ok) throw MigrationError(Refusal::kState, "cannot overwrite " + path);
    remove_file(path);
  }
}

int cmd_complete(const Args& a) {
  Bytes ack = read_file(need(a, "ack"), kAckFileLimit);
  // `complete` needs no TPM: the ack key is in the pending record.
  NoTransport none;
  tpm::TpmClient tpm(none);
  Source s(tpm, need(a, "state-dir"));
  PendingMigration p = s.complete(ack);
  if (a.count("vtpm")) {
    // The destination has the instance now: delete ours (terminate it).
    tpm::ControlChannel inst(a.at("vtpm"));
    inst.shutdown();
  }
  if (a.count("wipe-swtpm-state")) wipe_swtpm_state(a.at("wipe-swtpm-state"));
  std::printf("migration of VM %s (epoch %llu) complete; source instance deleted\n", format_vm_id(p.vm_id).c_str(),
              (unsigned long long)p.epoch);
  return 0;
}

int cmd_resume(const Args& a) {
  uint8_t vm[kVmIdSize];
  vm_id_arg(a, vm);
  NoTransport none;
  tpm::TpmClient tpm(none);
  Source s(tpm, need(a, "state-dir"));
  tpm::ControlChannel inst(need(a, "vtpm"));
  s.resume(vm, inst);
  std::printf("VM %s resumed on the source\n", format_vm_id(vm).c_str());
  return 0;
}

int cmd_inspect(const std::string& path) {
  Bytes b = read_file(path, kMaxPackageSize);
  if (b.size() >= 4 && b[0] == 'M' && b[1] == 'M' && b[2] == 'O' && b[3] == 'F') {
    OfferView o;
    ParseError e = parse_offer(b.data(), b.size(), o);
    if (e != ParseError::kOk) throw MigrationError(Refusal::kMalformed, std::string("offer ") + to_string(e));
    std::printf("offer v%u\n  nonce      %s\n  srk type   %s\n  srk name   %s\n", o.version,
                to_hex(o.nonce.data, o.nonce.size).c_str(), o.srk_public.type == tpm2::kAlgRsa ? "rsa2048" : "ecc-p256",
                to_hex(o.srk_name.data, o.srk_name.size).c_str());
    return 0;
  }
  if (b.size() >= 4 && b[0] == 'M' && b[1] == 'M' && b[2] == 'A' && b[3] == 'K') {
    AckView k;
    ParseError e = parse_ack(b.data(), b.size(), k);
    if (e != ParseError::kOk) throw MigrationError(Refusal::kMalformed, std::string("ack ") + to_string(e));
    std::printf("ack\n  vm id      %s\n  nonce      %s\n  epoch      %llu\n", format_vm_id(k.vm_id).c_str(),
                to_hex(k.nonce, kNonceSize).c_str(), (unsigned long long)k.epoch);
    return 0;
  }
  PackageView v;
  ParseError e = parse_package(b.data(), b.size(), v);
  if (e != ParseError::kOk)
    throw MigrationError(e == ParseError::kUnknownVersion ? Refusal::kUnknownVersion : Refusal::kMalformed,
                         std::string("package ") + to_string(e));
  const PackageHeader& h = v.header;
  std::printf(
      "package v%u (%zu bytes)\n  vm id      %s\n  nonce      %s\n  source     %s\n  destination %s\n"
      "  epoch      %llu\n  permanent  %u bytes\n  volatile   %u bytes\n  savestate  %u bytes\n"
      "  wrapped key: public %zu, private %zu, seed %zu bytes\n  overhead   %zu bytes\n",
      h.version, b.size(), format_vm_id(h.vm_id).c_str(), to_hex(h.nonce, kNonceSize).c_str(),
      to_hex(h.source_name.data, h.source_name.size).c_str(),
      to_hex(h.destination_name.data, h.destination_name.size).c_str(), (unsigned long long)h.epoch, h.permanent_len,
      h.volatile_len, h.savestate_len, v.wrap.dup_public.size, v.wrap.dup_private.size, v.wrap.in_sym_seed.size,
      static_cast<size_t>(b.size() - v.state_size()));
  return 0;
}

// swtpm's own transfer of the same state, for the benchmark comparison.
// The file holds the three blobs, each as u32 length || bytes. With a
// --migration-key, swtpm encrypts every blob it returns (and expects them
// so encrypted on SET), whatever the state_flags say.
int cmd_raw_export(const Args& a) {
  tpm::ControlChannel inst(need(a, "vtpm"));
  uint64_t t0 = now_us();
  Bytes all;
  size_t sizes[3] = {};
  int i = 0;
  for (auto t : {tpm::BlobType::permanent, tpm::BlobType::volatile_state, tpm::BlobType::savestate}) {
    tpm::StateBlob b;
    try {
      b = inst.get_state_blob(t, true);
    } catch (const MigrationError&) {
      if (t != tpm::BlobType::savestate) throw;
    }
    sizes[i++] = b.data.size();
    for (int k = 3; k >= 0; --k) all.push_back(static_cast<uint8_t>(b.data.size() >> (8 * k)));
    all.insert(all.end(), b.data.begin(), b.data.end());
  }
  uint64_t t1 = now_us();
  write_file_atomic(need(a, "out"), all);
  auto cfg = inst.get_config();
  bool migration_key = cfg && (*cfg & tpm::swtpm::kConfigFlagMigrationKey);
  std::printf("raw export: permanent %zu volatile %zu savestate %zu total %zu bytes, migration-key=%s\n", sizes[0],
              sizes[1], sizes[2], sizes[0] + sizes[1] + sizes[2], migration_key ? "yes" : "no");
  std::printf("timing raw_export_us=%llu\n", (unsigned long long)(t1 - t0));
  return 0;
}

int cmd_raw_import(const Args& a) {
  Bytes all = read_file(need(a, "in"), kMaxPackageSize);
  protocol::ByteReader r(all.data(), all.size());
  Bytes blobs[3];
  for (auto& b : blobs) {
    uint32_t n = r.u32();
    if (!r.ok() || n > kMaxBlobSize) throw MigrationError(Refusal::kMalformed, "raw state file malformed");
    protocol::ByteSpan s = r.bytes(n);
    b.assign(s.data, s.data + s.size);
  }
  if (!r.at_end()) throw MigrationError(Refusal::kMalformed, "raw state file has trailing bytes");
  tpm::ControlChannel inst(need(a, "vtpm"));
  uint64_t t0 = now_us();
  restore_instance(inst, blobs[0], blobs[1], blobs[2]);
  uint64_t t1 = now_us();
  std::printf("raw import done\ntiming raw_import_us=%llu\n", (unsigned long long)(t1 - t0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  Args a;
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s.size() > 2 && s[0] == '-' && s[1] == '-') {
      std::string key(s.substr(2));
      if (key == "timing") {
        a[key] = "1";
      } else if (i + 1 < argc) {
        a[key] = argv[++i];
      } else {
        std::fprintf(stderr, "option %s needs a value\n", argv[i]);
        return kExitUsage;
      }
    } else {
      positional.emplace_back(s);
    }
  }
  try {
    if (cmd == "offer") return cmd_offer(a);
    if (cmd == "export") return cmd_export(a);
    if (cmd == "import") return cmd_import(a);
    if (cmd == "complete") return cmd_complete(a);
    if (cmd == "ack") return cmd_ack(a);
    if (cmd == "resume") return cmd_resume(a);
    if (cmd == "raw-export") return cmd_raw_export(a);
    if (cmd == "raw-import") return cmd_raw_import(a);
    if (cmd == "inspect" && positional.size() == 1) return cmd_inspect(positional[0]);
    return usage();
  } catch (const MigrationError& e) {
    if (e.code() == Refusal::kUsage) {
      std::fprintf(stderr, "vtpm-migrate: %s\n", e.what());
      return kExitUsage;
    }
    bool refusal = e.code() != Refusal::kTransport && e.code() != Refusal::kTpmError &&
                   e.code() != Refusal::kVtpmError && e.code() != Refusal::kState;
    std::fprintf(stderr, "%s: %s\n", refusal ? "refused" : "vtpm-migrate: error", e.what());
    return refusal ? kExitRefused : kExitFailure;
  } catch (const tpm::TpmError& e) {
    std::fprintf(stderr, "vtpm-migrate: error: %s\n", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vtpm-migrate: error: %s\n", e.what());
    return kExitFailure;
  }
}
