#include "vtpm/service/state/key_source.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

namespace mamori::vtpm::state {

namespace {

// A key file longer than this is not a key.
constexpr size_t kMaxKeyFile = 256;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_all(int fd, std::string& out, std::string& err) {
  char buf[kMaxKeyFile + 1];
  size_t got = 0;
  for (;;) {
    const ssize_t r = read(fd, buf + got, sizeof(buf) - got);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      err = std::string("cannot read key: ") + strerror(errno);
      return false;
    }
    got += static_cast<size_t>(r);
    if (got > kMaxKeyFile) {
      err = "key source is too long to be a key";
      return false;
    }
  }
  out.assign(buf, got);
  return true;
}

}  // namespace

bool decode_key(const std::string& bytes, SealingKey& out, std::string& err) {
  std::string s = bytes;
  if (s.size() == kSealedKeySize) {
    for (size_t i = 0; i < kSealedKeySize; ++i) out[i] = static_cast<uint8_t>(s[i]);
    return true;
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() != 2 * kSealedKeySize) {
    err = "key must be 32 raw bytes or 64 hex digits, got " + std::to_string(bytes.size()) + " bytes";
    return false;
  }
  for (size_t i = 0; i < kSealedKeySize; ++i) {
    const int hi = hex_value(s[2 * i]);
    const int lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      err = "key has a non-hex character";
      return false;
    }
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

bool load_key(const std::string& spec, SealingKey& out, std::string& err) {
  std::string bytes;
  if (spec.rfind("file:", 0) == 0) {
    const std::string path = spec.substr(5);
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = "cannot open key file '" + path + "': " + strerror(errno);
      return false;
    }
    const bool ok = read_all(fd, bytes, err);
    close(fd);
    if (!ok) return false;
  } else if (spec.rfind("fd:", 0) == 0) {
    const std::string num = spec.substr(3);
    if (num.empty() || num.size() > 6 || num.find_first_not_of("0123456789") != std::string::npos) {
      err = "bad key descriptor '" + num + "'";
      return false;
    }
    const int fd = std::stoi(num);
    if (!read_all(fd, bytes, err)) return false;
    close(fd);
  } else {
    err = "key must be given as file:PATH or fd:N";
    return false;
  }
  return decode_key(bytes, out, err);
}

}  // namespace mamori::vtpm::state
