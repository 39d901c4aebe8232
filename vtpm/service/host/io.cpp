#include "vtpm/service/host/io.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace mamori::vtpm::host {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

IoStatus recv_some(int fd, void* buf, size_t cap, size_t& got, int* passed_fd) {
  got = 0;
  for (;;) {
    ssize_t r;
    if (passed_fd != nullptr) {
      iovec iov{buf, cap};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
      if (r < 0 && errno == ENOTSOCK) {
        passed_fd = nullptr;
        continue;
      }
      if (r > 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int received = -1;
            std::memcpy(&received, CMSG_DATA(c), sizeof(int));
            if (*passed_fd >= 0) close(*passed_fd);  // keep only the last one
            *passed_fd = received;
          }
        }
      }
    } else {
      r = read(fd, buf, cap);
    }
    if (r > 0) {
      got = static_cast<size_t>(r);
      return IoStatus::ok;
    }
    if (r == 0) return IoStatus::eof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::again;
    return IoStatus::error;
  }
}

IoStatus send_some(int fd, const void* buf, size_t n, size_t& sent) {
  sent = 0;
  for (;;) {
    // MSG_NOSIGNAL: a client that went away yields EPIPE, not SIGPIPE.
    ssize_t r = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0 && errno == ENOTSOCK) r = write(fd, buf, n);
    if (r >= 0) {
      sent = static_cast<size_t>(r);
      return IoStatus::ok;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::again;
    return IoStatus::error;
  }
}

IoStatus send_all(int fd, const void* buf, size_t n, int timeout_ms) {
  const auto* p = static_cast<const uint8_t*>(buf);
  const int64_t deadline = now_ms() + timeout_ms;
  size_t put = 0;
  while (put < n) {
    size_t sent = 0;
    const IoStatus s = send_some(fd, p + put, n - put, sent);
    if (s == IoStatus::error) return s;
    put += sent;
    if (put == n) break;
    const int64_t left = deadline - now_ms();
    if (left <= 0) return IoStatus::again;
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) < 0 && errno != EINTR) return IoStatus::error;
  }
  return IoStatus::ok;
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void LogLimiter::log(const char* fmt, ...) {
  const int64_t now = now_ms();
  if (now - window_start_ >= kWindowMs) {
    if (suppressed_ > 0) {
      fprintf(stderr, "vtpm-service: %llu similar messages suppressed\n",
              static_cast<unsigned long long>(suppressed_));
    }
    window_start_ = now;
    used_ = 0;
    suppressed_ = 0;
  }
  if (used_ >= kBurst) {
    ++suppressed_;
    return;
  }
  ++used_;
  va_list ap;
  va_start(ap, fmt);
  fputs("vtpm-service: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

}  // namespace mamori::vtpm::host
