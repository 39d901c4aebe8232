#include "vtpm/service/host/io.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace mamori::vtpm::host {

namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits until fd is ready for `events` or the deadline passes.
IoStatus wait_ready(int fd, short events, const Deadline& d) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, d.remaining_ms());
    if (r > 0) return IoStatus::ok;
    if (r == 0) return IoStatus::timeout;
    if (errno != EINTR) return IoStatus::error;
  }
}

}  // namespace

Deadline Deadline::after_ms(int ms) {
  Deadline d;
  d.at_ms_ = now_ms() + ms;
  return d;
}

int Deadline::remaining_ms() const {
  const int64_t left = at_ms_ - now_ms();
  return left > 0 ? static_cast<int>(left) : 0;
}

IoStatus read_exact(int fd, void* buf, size_t n, const Deadline& d) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read(fd, p + got, n - got);
    if (r > 0) { got += static_cast<size_t>(r); continue; }
    if (r == 0) return IoStatus::eof;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoStatus::error;
    const IoStatus w = wait_ready(fd, POLLIN, d);
    if (w != IoStatus::ok) return w;
  }
  return IoStatus::ok;
}

IoStatus read_some(int fd, void* buf, size_t cap, const Deadline& d, size_t& got) {
  got = 0;
  for (;;) {
    const ssize_t r = read(fd, buf, cap);
    if (r > 0) { got = static_cast<size_t>(r); return IoStatus::ok; }
    if (r == 0) return IoStatus::eof;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoStatus::error;
    const IoStatus w = wait_ready(fd, POLLIN, d);
    if (w != IoStatus::ok) return w;
  }
}

size_t drain_available(int fd, size_t max) {
  uint8_t scratch[16];
  if (max > sizeof(scratch)) max = sizeof(scratch);
  for (;;) {
    const ssize_t r = recv(fd, scratch, max, MSG_DONTWAIT);
    if (r > 0) return static_cast<size_t>(r);
    if (r < 0 && errno == EINTR) continue;
    return 0;
  }
}

IoStatus write_all(int fd, const void* buf, size_t n, const Deadline& d) {
  const auto* p = static_cast<const uint8_t*>(buf);
  size_t put = 0;
  while (put < n) {
    // MSG_NOSIGNAL: a client that went away yields EPIPE, not SIGPIPE.
    ssize_t r = send(fd, p + put, n - put, MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK) r = write(fd, p + put, n - put);
    if (r > 0) { put += static_cast<size_t>(r); continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const IoStatus w = wait_ready(fd, POLLOUT, d);
      if (w != IoStatus::ok) return w;
      continue;
    }
    return IoStatus::error;
  }
  return IoStatus::ok;
}

IoStatus recv_exact_with_fd(int fd, void* buf, size_t n, const Deadline& d, int* passed_fd) {
  *passed_fd = -1;
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < n) {
    iovec iov{p + got, n - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (r > 0) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len >= CMSG_LEN(sizeof(int))) {
          int received = -1;
          std::memcpy(&received, CMSG_DATA(c), sizeof(int));
          if (*passed_fd >= 0) close(*passed_fd);  // keep only the last one
          *passed_fd = received;
        }
      }
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return IoStatus::eof;
    if (errno == EINTR) continue;
    if (errno == ENOTSOCK) return read_exact(fd, p + got, n - got, d);
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoStatus::error;
    const IoStatus w = wait_ready(fd, POLLIN, d);
    if (w != IoStatus::ok) return w;
  }
  return IoStatus::ok;
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

const char* io_status_name(IoStatus s) {
  switch (s) {
    case IoStatus::ok: return "ok";
    case IoStatus::eof: return "connection closed";
    case IoStatus::timeout: return "timed out";
    case IoStatus::error: return "I/O error";
  }
  return "?";
}

}  // namespace mamori::vtpm::host
