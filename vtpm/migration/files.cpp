#include "vtpm/migration/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vtpm/migration/errors.hpp"

namespace mamori::vtpm::migration {

Bytes read_file(const std::string& path, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw MigrationError(Refusal::kUsage, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    throw MigrationError(Refusal::kUsage, path + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > limit) {
    close(fd);
    throw MigrationError(Refusal::kMalformed, path + " is over the size limit (" + std::to_string(limit) + " bytes)");
  }
  Bytes b(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < b.size()) {
    ssize_t r = read(fd, b.data() + got, b.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  close(fd);
  b.resize(got);
  return b;
}

void write_file_atomic(const std::string& path, const Bytes& data) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw MigrationError(Refusal::kState, "cannot create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      close(fd);
      throw MigrationError(Refusal::kState, "cannot write " + tmp + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(w);
  }
  fsync(fd);
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0)
    throw MigrationError(Refusal::kState, "cannot rename " + tmp + ": " + std::strerror(errno));
}

bool file_exists(const std::string& path) {
  struct stat st{};
  return stat(path.c_str(), &st) == 0;
}

void remove_file(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    throw MigrationError(Refusal::kState, "cannot remove " + path + ": " + std::strerror(errno));
}

void make_dirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
        throw MigrationError(Refusal::kState, "cannot create " + cur + ": " + std::strerror(errno));
    }
    if (i < path.size()) cur.push_back(path[i]);
  }
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[p[i] >> 4]);
    s.push_back(d[p[i] & 15]);
  }
  return s;
}

bool parse_vm_id(const std::string& s, uint8_t out[kVmIdSize]) {
  size_t n = 0;
  int hi = -1;
  for (char c : s) {
    if (c == '-') continue;
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return false;
    if (hi < 0) {
      hi = v;
    } else {
      if (n == kVmIdSize) return false;
      out[n++] = static_cast<uint8_t>(hi << 4 | v);
      hi = -1;
    }
  }
  return n == kVmIdSize && hi < 0;
}

std::string format_vm_id(const uint8_t id[kVmIdSize]) {
  std::string h = to_hex(id, kVmIdSize);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace mamori::vtpm::migration
