#include "vtpm/service/state/state_dir.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace mamori::vtpm::state {

namespace {

constexpr uint32_t kResFail = 9;  // TPM_FAIL (tpm_error.h): the change could not be made durable
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
constexpr const char* kLockName = ".lock";
constexpr const char* kTmpSuffix = ".tmp";
constexpr const char* kManifestName = "manifest.sealed";
constexpr protocol::BlobType kTypes[] = {protocol::BlobType::permanent, protocol::BlobType::volatile_state,
                                         protocol::BlobType::savestate};

void sha256(const uint8_t* data, size_t len, uint8_t (&out)[kDigestSize]) { SHA256(data, len, out); }

bool same_digest(const uint8_t (&a)[kDigestSize], const uint8_t (&b)[kDigestSize]) {
  return CRYPTO_memcmp(a, b, kDigestSize) == 0;
}

bool read_file(int dir_fd, const char* name, std::vector<uint8_t>& out, bool& exists, std::string& err) {
  exists = false;
  const int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    err = std::string("cannot open ") + name + ": " + strerror(errno);
    return false;
  }
  exists = true;
  out.clear();
  uint8_t buf[65536];
  for (;;) {
    const ssize_t r = read(fd, buf, sizeof(buf));
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      err = std::string("cannot read ") + name + ": " + strerror(errno);
      close(fd);
      return false;
    }
    out.insert(out.end(), buf, buf + r);
    if (out.size() > kSealedHeaderSize + kMaxSealedPlaintext + kSealedTagSize) {
      err = std::string(name) + " is larger than any sealed state file";
      close(fd);
      return false;
    }
  }
  close(fd);
  return true;
}

bool fresh_nonce(uint8_t (&nonce)[kSealedNonceSize]) {
  size_t got = 0;
  while (got < kSealedNonceSize) {
    const ssize_t r = getrandom(nonce + got, kSealedNonceSize - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

StateDir::StateDir(std::string dir, const SealingKey& key, StateDirOptions opt)
    : dir_(std::move(dir)), key_(key), opt_(std::move(opt)) {}

StateDir::~StateDir() {
  if (lock_fd_ >= 0) close(lock_fd_);
  if (dir_fd_ >= 0) close(dir_fd_);
  key_.fill(0);
}

const char* StateDir::file_name(protocol::BlobType type) {
  switch (type) {
    case protocol::BlobType::permanent: return "permanent.sealed";
    case protocol::BlobType::volatile_state: return "volatile.sealed";
    case protocol::BlobType::savestate: return "savestate.sealed";
  }
  return "unknown.sealed";
}

bool StateDir::open(std::string& err) {
  if (mkdir(dir_.c_str(), kDirMode) != 0 && errno != EEXIST) {
    err = "cannot create state directory '" + dir_ + "': " + strerror(errno);
    return false;
  }
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) {
    err = "cannot open state directory '" + dir_ + "': " + strerror(errno);
    return false;
  }
  lock_fd_ = openat(dir_fd_, kLockName, O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    err = "state directory '" + dir_ + "' is in use by another vtpm-service";
    return false;
  }
  return true;
}

bool StateDir::check_instance(std::string& err) {
  if (opt_.instance_id.empty()) return true;
  uint8_t want[kDigestSize];
  sha256(reinterpret_cast<const uint8_t*>(opt_.instance_id.data()), opt_.instance_id.size(), want);
  if (!same_digest(want, manifest_.instance)) {
    err = dir_ + ": the state belongs to another instance (manifest instance differs from --instance-id " +
          opt_.instance_id + ")";
    return false;
  }
  return true;
}

// The manifest is committed under counter + 1 before the counter is
// incremented: a manifest at the counter, or one ahead (a crash between the
// two steps), is current; anything older is a restored copy.
bool StateDir::check_epoch(std::string& err) {
  if (opt_.counter == nullptr) return true;
  uint64_t now = 0;
  if (!opt_.counter->read(now, err)) {
    err = "monotonic counter: " + err;
    return false;
  }
  if (manifest_.epoch == now + 1) {
    if (!opt_.counter->increment(err)) {
      err = "monotonic counter: " + err;
      return false;
    }
    return true;
  }
  if (manifest_.epoch != now) {
    err = dir_ + ": rollback refused: the manifest was committed at counter " + std::to_string(manifest_.epoch) +
          " but the monotonic counter is at " + std::to_string(now) + " (an older copy of the directory)";
    return false;
  }
  return true;
}

bool StateDir::load_into(engine::TpmEngine& tpm, std::string& err) {
  std::vector<uint8_t> file;
  bool manifest_exists = false;
  if (!read_file(dir_fd_, kManifestName, file, manifest_exists, err)) return false;
  bool blobs_exist = false;
  for (protocol::BlobType t : kTypes) {
    struct stat st {};
    if (fstatat(dir_fd_, file_name(t), &st, 0) == 0) blobs_exist = true;
  }
  if (!manifest_exists) {
    if (blobs_exist && !opt_.adopt) {
      err = dir_ + ": sealed state without " + kManifestName +
            " (deleted, or written before manifests existed): refused; --adopt-state binds the files as they are";
      return false;
    }
    // A new (or adopted) directory: its identity, generation 0.
    if (!opt_.instance_id.empty()) {
      sha256(reinterpret_cast<const uint8_t*>(opt_.instance_id.data()), opt_.instance_id.size(),
             manifest_.instance);
    } else if (getrandom(manifest_.instance, kInstanceSize, 0) != static_cast<ssize_t>(kInstanceSize)) {
      err = "getrandom failed";
      return false;
    }
  } else {
    std::vector<uint8_t> plain;
    std::string detail;
    if (open_sealed(key_, kSealedManifest, file.data(), file.size(), plain, detail) != OpenError::none) {
      err = dir_ + "/" + kManifestName + ": " + detail;
      return false;
    }
    const ManifestError me = parse_manifest(plain.data(), plain.size(), manifest_);
    if (me != ManifestError::none) {
      err = dir_ + "/" + kManifestName + ": " + manifest_error_name(me);
      return false;
    }
    if (!check_instance(err) || !check_epoch(err)) return false;
  }

  // Every file is authenticated, then must be the one the manifest names.
  // Nothing is changed until all of them passed.
  std::vector<uint8_t> plains[kManifestFiles];
  bool load[kManifestFiles] = {};
  bool roll_forward[kManifestFiles] = {};  // NAME.tmp is the committed file
  bool drop[kManifestFiles] = {};          // the manifest says the blob was deleted
  for (protocol::BlobType t : kTypes) {
    const size_t i = static_cast<size_t>(t) - 1;
    const std::string name = file_name(t);
    bool exists = false;
    if (!read_file(dir_fd_, name.c_str(), file, exists, err)) return false;
    std::string detail;
    if (exists && open_sealed(key_, t, file.data(), file.size(), plains[i], detail) != OpenError::none) {
      err = dir_ + "/" + name + ": " + detail;
      return false;
    }
    if (!manifest_exists) {  // adopted as they are
      if (exists) {
        manifest_.files[i].present = true;
        sha256(file.data(), file.size(), manifest_.files[i].digest);
        load[i] = true;
      }
      continue;
    }
    const ManifestFile& m = manifest_.files[i];
    if (!m.present) {
      drop[i] = exists;
      continue;
    }
    uint8_t d[kDigestSize] = {};
    if (exists) sha256(file.data(), file.size(), d);
    if (exists && same_digest(d, m.digest)) {
      load[i] = true;
      continue;
    }
    // A crash after the manifest's commit and before NAME.tmp replaced NAME.
    std::vector<uint8_t> tmp;
    bool tmp_exists = false;
    if (!read_file(dir_fd_, (name + kTmpSuffix).c_str(), tmp, tmp_exists, err)) return false;
    uint8_t td[kDigestSize] = {};
    if (tmp_exists) sha256(tmp.data(), tmp.size(), td);
    if (tmp_exists && same_digest(td, m.digest) &&
        open_sealed(key_, t, tmp.data(), tmp.size(), plains[i], detail) == OpenError::none) {
      load[i] = roll_forward[i] = true;
      continue;
    }
    err = dir_ + "/" + name + (exists ? " is not the file the manifest names (an older copy, or another "
                                        "instance's file): refused, nothing changed"
                                      : " is missing although the manifest names it: refused");
    return false;
  }
  for (protocol::BlobType t : kTypes) {
    const size_t i = static_cast<size_t>(t) - 1;
    const std::string name = file_name(t);
    if (roll_forward[i] && renameat(dir_fd_, (name + kTmpSuffix).c_str(), dir_fd_, name.c_str()) != 0) {
      err = "rename " + name + kTmpSuffix + ": " + strerror(errno);
      return false;
    }
    if (drop[i] && !remove(name, err)) return false;
    if (load[i]) tpm.preload_state(t, std::move(plains[i]));
  }
  if (!manifest_exists && !commit_manifest(err)) return false;
  return sync_dir(err);
}

bool StateDir::commit_manifest(std::string& err) {
  Manifest next = manifest_;
  ++next.generation;
  uint64_t now = 0;
  if (opt_.counter != nullptr) {
    if (!opt_.counter->read(now, err)) {
      err = "monotonic counter: " + err;
      return false;
    }
    next.epoch = now + 1;
  }
  uint8_t plain[kManifestSize];
  encode_manifest(next, plain, sizeof(plain));
  uint8_t nonce[kSealedNonceSize];
  if (!fresh_nonce(nonce)) {
    err = "getrandom failed";
    return false;
  }
  const std::vector<uint8_t> sealed = seal(key_, kSealedManifest, plain, sizeof(plain), nonce);
  if (sealed.empty()) {
    err = "sealing the manifest failed";
    return false;
  }
  if (!write_atomically(kManifestName, sealed, err)) return false;  // the commit point
  manifest_ = next;
  // After the commit: a crash before the increment leaves the manifest one
  // ahead of the counter, which load accepts and catches up.
  if (opt_.counter != nullptr && !opt_.counter->increment(err)) {
    err = "monotonic counter: " + err;
    return false;
  }
  return true;
}

uint32_t StateDir::state_changed(protocol::BlobType type, const uint8_t* data, size_t len) {
  std::string err;
  const std::string name = file_name(type);
  const size_t i = static_cast<size_t>(type) - 1;
  const Manifest before = manifest_;
  bool ok = false;
  if (data == nullptr) {
    manifest_.files[i].present = false;
    ok = commit_manifest(err) && remove(name, err);
  } else {
    uint8_t nonce[kSealedNonceSize];
    if (!fresh_nonce(nonce)) {
      err = "getrandom failed";
    } else {
      const std::vector<uint8_t> sealed = seal(key_, type, data, len, nonce);
      if (sealed.empty()) {
        err = "sealing failed";
      } else if (write_file(name + kTmpSuffix, sealed, err)) {
        manifest_.files[i].present = true;
        sha256(sealed.data(), sealed.size(), manifest_.files[i].digest);
        if (commit_manifest(err)) {
          if (renameat(dir_fd_, (name + kTmpSuffix).c_str(), dir_fd_, name.c_str()) != 0) {
            err = "rename " + name + kTmpSuffix + ": " + strerror(errno);
          } else {
            ok = sync_dir(err);
          }
        }
      }
    }
  }
  if (!ok) {
    if (manifest_.generation == before.generation) manifest_ = before;  // nothing committed
    fprintf(stderr, "vtpm-service: state %s not saved: %s\n", name.c_str(), err.c_str());
    return kResFail;
  }
  return 0;
}

bool StateDir::write_file(const std::string& name, const std::vector<uint8_t>& bytes, std::string& err) {
  const int fd = openat(dir_fd_, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    err = "cannot create " + name + ": " + strerror(errno);
    return false;
  }
  size_t put = 0;
  while (put < bytes.size()) {
    const ssize_t r = write(fd, bytes.data() + put, bytes.size() - put);
    if (r < 0) {
      if (errno == EINTR) continue;
      err = "cannot write " + name + ": " + strerror(errno);
      close(fd);
      unlinkat(dir_fd_, name.c_str(), 0);
      return false;
    }
    put += static_cast<size_t>(r);
  }
  if (fsync(fd) != 0) {
    err = "fsync " + name + ": " + strerror(errno);
    close(fd);
    unlinkat(dir_fd_, name.c_str(), 0);
    return false;
  }
  close(fd);
  return true;
}

bool StateDir::write_atomically(const std::string& name, const std::vector<uint8_t>& bytes, std::string& err) {
  const std::string tmp = name + kTmpSuffix;
  if (!write_file(tmp, bytes, err)) return false;
  if (renameat(dir_fd_, tmp.c_str(), dir_fd_, name.c_str()) != 0) {
    err = "rename " + tmp + ": " + strerror(errno);
    unlinkat(dir_fd_, tmp.c_str(), 0);
    return false;
  }
  return sync_dir(err);
}

bool StateDir::remove(const std::string& name, std::string& err) {
  if (unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT) {
    err = "unlink " + name + ": " + strerror(errno);
    return false;
  }
  return sync_dir(err);
}

bool StateDir::sync_dir(std::string& err) {
  if (fsync(dir_fd_) != 0) {
    err = std::string("fsync of the state directory: ") + strerror(errno);
    return false;
  }
  return true;
}

}  // namespace mamori::vtpm::state
