#include "vtpm/service/state/state_dir.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mamori::vtpm::state {

namespace {

constexpr uint32_t kResFail = 9;  // TPM_FAIL (tpm_error.h): the change could not be made durable
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
constexpr const char* kLockName = ".lock";
constexpr const char* kTmpSuffix = ".tmp";

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

StateDir::StateDir(std::string dir, const SealingKey& key) : dir_(std::move(dir)), key_(key) {}

StateDir::~StateDir() {
  if (lock_fd_ >= 0) close(lock_fd_);
  if (dir_fd_ >= 0) close(dir_fd_);
  key_.fill(0);
}

const char* StateDir::file_name(wire::BlobType type) {
  switch (type) {
    case wire::BlobType::permanent: return "permanent.sealed";
    case wire::BlobType::volatile_state: return "volatile.sealed";
    case wire::BlobType::savestate: return "savestate.sealed";
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

bool StateDir::load_into(engine::TpmEngine& tpm, std::string& err) {
  const wire::BlobType types[] = {wire::BlobType::permanent, wire::BlobType::volatile_state,
                                  wire::BlobType::savestate};
  for (wire::BlobType t : types) {
    std::vector<uint8_t> file;
    bool exists = false;
    if (!read_file(dir_fd_, file_name(t), file, exists, err)) return false;
    if (!exists) continue;
    std::vector<uint8_t> plain;
    std::string detail;
    const OpenError oe = open_sealed(key_, t, file.data(), file.size(), plain, detail);
    if (oe != OpenError::none) {
      err = dir_ + "/" + file_name(t) + ": " + detail;
      return false;
    }
    tpm.preload_state(t, std::move(plain));
  }
  return true;
}

uint32_t StateDir::state_changed(wire::BlobType type, const uint8_t* data, size_t len) {
  std::string err;
  const char* name = file_name(type);
  bool ok = false;
  if (data == nullptr) {
    ok = remove(name, err);
  } else {
    uint8_t nonce[kSealedNonceSize];
    if (!fresh_nonce(nonce)) {
      err = "getrandom failed";
    } else {
      const std::vector<uint8_t> sealed = seal(key_, type, data, len, nonce);
      if (sealed.empty()) err = "sealing failed";
      else ok = write_atomically(name, sealed, err);
    }
  }
  if (!ok) {
    fprintf(stderr, "vtpm-service: state %s not saved: %s\n", name, err.c_str());
    return kResFail;
  }
  return 0;
}

bool StateDir::write_atomically(const std::string& name, const std::vector<uint8_t>& bytes, std::string& err) {
  const std::string tmp = name + kTmpSuffix;
  const int fd = openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    err = "cannot create " + tmp + ": " + strerror(errno);
    return false;
  }
  size_t put = 0;
  while (put < bytes.size()) {
    const ssize_t r = write(fd, bytes.data() + put, bytes.size() - put);
    if (r < 0) {
      if (errno == EINTR) continue;
      err = "cannot write " + tmp + ": " + strerror(errno);
      close(fd);
      unlinkat(dir_fd_, tmp.c_str(), 0);
      return false;
    }
    put += static_cast<size_t>(r);
  }
  if (fsync(fd) != 0) {
    err = "fsync " + tmp + ": " + strerror(errno);
    close(fd);
    unlinkat(dir_fd_, tmp.c_str(), 0);
    return false;
  }
  close(fd);
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
