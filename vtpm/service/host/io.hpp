// Non-blocking socket I/O for the host-mode server, and the rate limit of
// its per-connection log lines.
//
// The server never waits on one peer: it reads whatever a readable socket
// holds into that connection's buffer and writes what the socket accepts,
// so a slow or silent client cannot hold the single-threaded loop (the
// denial of service of issue 9, finding 10).
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::host {

// How long a peer may take to deliver the rest of a message it started, or
// to take a response it asked for.
inline constexpr int kMessageTimeoutMs = 2000;

int64_t now_ms();  // CLOCK_MONOTONIC

enum class IoStatus { ok, again, eof, error };

// Reads up to cap bytes without waiting (got = 0 with `again` when nothing
// is there). With passed_fd non-null, uses recvmsg() so that a descriptor
// sent with SCM_RIGHTS (swtpm CMD_SET_DATAFD) is picked up: *passed_fd is
// set to it (the caller owns it), or left alone when none came.
IoStatus recv_some(int fd, void* buf, size_t cap, size_t& got, int* passed_fd);
// Writes what the socket accepts now; `sent` tells how much.
IoStatus send_some(int fd, const void* buf, size_t n, size_t& sent);
// Writes all of buf, waiting at most timeout_ms in total (the final flush
// before the process exits).
IoStatus send_all(int fd, const void* buf, size_t n, int timeout_ms);

void set_nonblocking(int fd);

// At most kBurst lines per kWindowMs; what is dropped beyond that is counted
// and reported in one line when the next window opens, so a flood of
// refused connections cannot grow the log without bound.
class LogLimiter {
 public:
  static constexpr int kBurst = 10;
  static constexpr int64_t kWindowMs = 10000;
  // printf-style; writes to stderr when within the budget.
  void log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

 private:
  int64_t window_start_ = -kWindowMs;
  int used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace mamori::vtpm::host
