// TCP helpers: connect with a timeout, full writes and reads.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vtpm/migration/errors.hpp"
#include "vtpm/migration/tpm/transport.hpp"

namespace mamori::vtpm::migration::tpm {

namespace {
constexpr int kIoTimeoutMs = 30000;  // a TPM command (RSA keygen in swtpm) takes well under this
}

int tcp_connect(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0)
    throw MigrationError(Refusal::kTransport, "cannot resolve " + host + ": " + gai_strerror(rc));
  int fd = -1;
  int last_errno = 0;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    last_errno = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    throw MigrationError(Refusal::kTransport,
                         "cannot connect to " + host + ":" + port_s + ": " + std::strerror(last_errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, const uint8_t* p, size_t n) {
  while (n) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw MigrationError(Refusal::kTransport, std::string("write failed: ") + std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void read_exact(int fd, uint8_t* p, size_t n) {
  while (n) {
    pollfd pfd{fd, POLLIN, 0};
    int pr = poll(&pfd, 1, kIoTimeoutMs);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) throw MigrationError(Refusal::kTransport, "timed out waiting for a response");
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw MigrationError(Refusal::kTransport, std::string("read failed: ") + std::strerror(errno));
    if (r == 0) throw MigrationError(Refusal::kTransport, "connection closed mid-response");
    p += r;
    n -= static_cast<size_t>(r);
  }
}

}  // namespace mamori::vtpm::migration::tpm
