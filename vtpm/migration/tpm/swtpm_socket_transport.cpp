// swtpm's TCP data channel: the raw TPM 2.0 command is written as is and
// the response comes back as is (no framing beyond the TPM's own header:
// Part 1 §18 — tag u16, responseSize u32, responseCode u32).
#include <unistd.h>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm/response_framing.hpp"
#include "vtpm/migration/tpm/transport.hpp"

namespace mamori::vtpm::migration::tpm {

namespace {

class SwtpmSocketTransport final : public Transport {
 public:
  SwtpmSocketTransport(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {
    fd_ = tcp_connect(host_, port_);
  }
  ~SwtpmSocketTransport() override {
    if (fd_ >= 0) close(fd_);
  }

  Bytes transact(protocol::ByteSpan command) override {
    write_all(fd_, command.data, command.size);
    Bytes rsp(kResponseHeaderSize);
    read_exact(fd_, rsp.data(), rsp.size());
    size_t total = declared_response_size(rsp.data(), rsp.size());  // throws when absurd
    rsp.resize(total);
    read_exact(fd_, rsp.data() + kResponseHeaderSize, total - kResponseHeaderSize);
    return rsp;
  }

  std::string describe() const override { return "swtpm:" + host_ + ":" + std::to_string(port_); }

 private:
  std::string host_;
  uint16_t port_;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<Transport> open_swtpm_socket(const std::string& host, uint16_t port) {
  return std::make_unique<SwtpmSocketTransport>(host, port);
}

}  // namespace mamori::vtpm::migration::tpm
