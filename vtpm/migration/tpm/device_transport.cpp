// /dev/tpmrm0 (or /dev/tpm0): one write of the command, one read of the
// whole response (the Linux TPM driver returns a response in one read).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm/response_framing.hpp"
#include "vtpm/migration/tpm/transport.hpp"

namespace mamori::vtpm::migration::tpm {

namespace {

class DeviceTransport final : public Transport {
 public:
  explicit DeviceTransport(std::string path) : path_(std::move(path)) {
    fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) throw MigrationError(Refusal::kTransport, "cannot open " + path_ + ": " + std::strerror(errno));
  }
  ~DeviceTransport() override { close(fd_); }

  Bytes transact(protocol::ByteSpan command) override {
    ssize_t w;
    do {
      w = write(fd_, command.data, command.size);
    } while (w < 0 && errno == EINTR);
    if (w != static_cast<ssize_t>(command.size))
      throw MigrationError(Refusal::kTransport, "write to " + path_ + " failed: " + std::strerror(errno));
    Bytes rsp(tpm2::kMaxResponseSize);
    ssize_t r;
    do {
      r = read(fd_, rsp.data(), rsp.size());
    } while (r < 0 && errno == EINTR);
    if (r < static_cast<ssize_t>(kResponseHeaderSize))
      throw MigrationError(Refusal::kTransport, "short read from " + path_);
    size_t total = declared_response_size(rsp.data(), static_cast<size_t>(r));
    if (total != static_cast<size_t>(r)) throw MigrationError(Refusal::kTransport, "response size mismatch");
    rsp.resize(total);
    return rsp;
  }

  std::string describe() const override { return "device:" + path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<Transport> open_device(const std::string& path) { return std::make_unique<DeviceTransport>(path); }

std::unique_ptr<Transport> open_transport(const std::string& spec) {
  if (spec.rfind("device:", 0) == 0) return open_device(spec.substr(7));
  if (spec.rfind("/dev/", 0) == 0) return open_device(spec);
  if (spec.rfind("swtpm:", 0) == 0) {
    std::string rest = spec.substr(6);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) throw MigrationError(Refusal::kUsage, "expected swtpm:HOST:PORT, got " + spec);
    std::string host = rest.substr(0, colon);
    unsigned long port = std::strtoul(rest.c_str() + colon + 1, nullptr, 10);
    if (port == 0 || port > 65535) throw MigrationError(Refusal::kUsage, "bad port in " + spec);
    return open_swtpm_socket(host, static_cast<uint16_t>(port));
  }
  throw MigrationError(Refusal::kUsage, "unknown TPM transport '" + spec + "' (swtpm:HOST:PORT or device:PATH)");
}

}  // namespace mamori::vtpm::migration::tpm
