// Socket I/O with a per-message deadline: one slow or silent client cannot
// hold the single-threaded server for longer than the deadline.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::vtpm::host {

// How long a peer may take to deliver the rest of a message it started.
inline constexpr int kMessageTimeoutMs = 2000;

class Deadline {
 public:
  static Deadline after_ms(int ms);
  int remaining_ms() const;  // 0 once expired
 private:
  int64_t at_ms_ = 0;
};

enum class IoStatus { ok, eof, timeout, error };

IoStatus read_exact(int fd, void* buf, size_t n, const Deadline& d);
// Reads between 1 and cap bytes (whatever is available once readable).
IoStatus read_some(int fd, void* buf, size_t cap, const Deadline& d, size_t& got);
// Consumes up to max bytes that are already available, without waiting;
// returns how many were consumed.
size_t drain_available(int fd, size_t max);
IoStatus write_all(int fd, const void* buf, size_t n, const Deadline& d);
// Reads exactly n bytes, the first chunk with recvmsg() so a descriptor sent
// with SCM_RIGHTS (swtpm CMD_SET_DATAFD) is picked up; *passed_fd is -1 if none.
IoStatus recv_exact_with_fd(int fd, void* buf, size_t n, const Deadline& d, int* passed_fd);

const char* io_status_name(IoStatus s);
void set_nonblocking(int fd);

}  // namespace mamori::vtpm::host
