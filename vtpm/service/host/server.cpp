#include "vtpm/service/host/server.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>

#include "vtpm/service/host/io.hpp"
#include "vtpm/protocol/tpm_header.hpp"

namespace mamori::vtpm::host {

namespace {

constexpr int kListenBacklog = 16;
// Largest message a connection may buffer: a SET_STATEBLOB of the largest
// blob, or a HASH_DATA of the largest total, plus their headers.
constexpr size_t kMaxBuffered = (1u << 20) + 64;
constexpr size_t kReadChunk = 64 * 1024;

volatile sig_atomic_t g_stop_requested = 0;

bool parse_port(const std::string& s, uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  // The second channel lives on port + 1, so the first may not be 65535.
  if (v == 0 || v >= 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

bool parse_endpoint(const std::string& text, Endpoint& out, std::string& err) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    err = "expected tcp:PORT, unix:PATH or mssim:PORT, got '" + text + "'";
    return false;
  }
  const std::string kind = text.substr(0, colon);
  const std::string rest = text.substr(colon + 1);
  if (kind == "tcp" || kind == "mssim") {
    out.kind = kind == "tcp" ? Endpoint::Kind::swtpm_tcp : Endpoint::Kind::mssim_tcp;
    if (!parse_port(rest, out.port)) {
      err = "bad port '" + rest + "' (1..65534)";
      return false;
    }
    return true;
  }
  if (kind == "unix") {
    sockaddr_un probe{};
    if (rest.empty() || rest.size() >= sizeof(probe.sun_path)) {
      err = "bad unix socket path '" + rest + "'";
      return false;
    }
    out.kind = Endpoint::Kind::swtpm_unix;
    out.path = rest;
    return true;
  }
  err = "unknown server kind '" + kind + "'";
  return false;
}

Server::Server(engine::TpmEngine& tpm, std::string bind_address, bool has_key, int idle_timeout_s)
    : tpm_(tpm), bind_address_(std::move(bind_address)), has_key_(has_key),
      idle_timeout_ms_(int64_t{idle_timeout_s} * 1000) {}

Server::~Server() {
  for (const auto& c : conns_) {
    close(c->fd);
    if (c->passed_fd >= 0) close(c->passed_fd);
  }
  for (const std::string& p : unix_paths_) unlink(p.c_str());
}

void Server::request_stop() { g_stop_requested = 1; }

bool Server::listen(const Endpoint& e, std::string& err) {
  switch (e.kind) {
    case Endpoint::Kind::swtpm_tcp:
      return listen_tcp(e.port, Role::swtpm_data_listener, err) &&
             listen_tcp(static_cast<uint16_t>(e.port + 1), Role::swtpm_ctrl_listener, err);
    case Endpoint::Kind::mssim_tcp:
      return listen_tcp(e.port, Role::mssim_cmd_listener, err) &&
             listen_tcp(static_cast<uint16_t>(e.port + 1), Role::mssim_platform_listener, err);
    case Endpoint::Kind::swtpm_unix:
      return listen_unix(e.path, Role::swtpm_ctrl_listener, err);
  }
  return false;
}

bool Server::listen_tcp(uint16_t port, Role role, std::string& err) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, bind_address_.c_str(), &addr.sin_addr) != 1) {
    err = "bad IPv4 bind address '" + bind_address_ + "'";
    return false;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { err = std::string("socket: ") + strerror(errno); return false; }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, kListenBacklog) != 0) {
    err = "cannot listen on " + bind_address_ + ":" + std::to_string(port) + ": " + strerror(errno);
    close(fd);
    return false;
  }
  set_nonblocking(fd);
  add_conn(fd, role);
  return true;
}

bool Server::listen_unix(const std::string& path, Role role, std::string& err) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { err = std::string("socket: ") + strerror(errno); return false; }
  // Remove a stale socket from a previous run, and nothing else: a
  // mistyped path must not delete somebody's file.
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      err = "unix:" + path + " exists and is not a socket";
      close(fd);
      return false;
    }
    unlink(path.c_str());
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, kListenBacklog) != 0) {
    err = "cannot listen on unix:" + path + ": " + strerror(errno);
    close(fd);
    return false;
  }
  set_nonblocking(fd);
  add_conn(fd, role)->unix_ctrl = true;  // marks the listener: its connections are QEMU's
  unix_paths_.push_back(path);
  return true;
}

bool Server::make_room(bool ctrl_class) {
  size_t count = 0;
  size_t victim = conns_.size();
  for (size_t i = 0; i < conns_.size(); ++i) {
    const Conn& c = *conns_[i];
    if (c.role < Role::swtpm_data || is_ctrl_class(c.role) != ctrl_class) continue;
    if (c.close_after_write && c.out_pos >= c.out.size()) continue;  // closes at the end of this turn
    ++count;
    // Only a connection between messages is evicted, never QEMU's data fd.
    if (c.busy() || c.is_data_fd) continue;
    if (victim == conns_.size() || c.last_active_ms < conns_[victim]->last_active_ms) victim = i;
  }
  const size_t limit = ctrl_class ? kMaxCtrlClients : kMaxDataClients;
  if (count < limit) return true;
  if (victim == conns_.size()) return false;
  log_.log("%s connections full: closing the longest idle one", ctrl_class ? "control" : "data");
  // Closed at the end of this loop turn: the poll array still indexes conns_.
  Conn& v = *conns_[victim];
  v.in.clear();
  v.out.clear();
  v.out_pos = 0;
  v.close_after_write = true;
  shutdown(v.fd, SHUT_RDWR);
  return true;
}

void Server::accept_on(const Conn& listener) {
  // Drain the backlog: every pending connection gets served or refused now.
  for (;;) {
    const int fd = accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    Role role = Role::swtpm_data;
    switch (listener.role) {
      case Role::swtpm_data_listener: role = Role::swtpm_data; break;
      case Role::swtpm_ctrl_listener: role = Role::swtpm_ctrl; break;
      case Role::mssim_cmd_listener: role = Role::mssim_cmd; break;
      case Role::mssim_platform_listener: role = Role::mssim_platform; break;
      default: close(fd); return;
    }
    const bool from_unix = listener.unix_ctrl;
    if (!make_room(is_ctrl_class(role))) {
      log_.log("too many connections, refusing one");
      close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on unix sockets
    add_conn(fd, role)->unix_ctrl = from_unix;
  }
}

Server::Conn* Server::add_conn(int fd, Role role, bool is_data_fd) {
  auto c = std::make_unique<Conn>();
  c->fd = fd;
  c->role = role;
  c->is_data_fd = is_data_fd;
  c->last_active_ms = now_ms();
  conns_.push_back(std::move(c));
  return conns_.back().get();
}

void Server::close_conn(size_t index) {
  Conn& c = *conns_[index];
  if (c.is_data_fd) data_fd_set_ = false;
  close(c.fd);
  if (c.passed_fd >= 0) close(c.passed_fd);
  conns_.erase(conns_.begin() + static_cast<long>(index));
}

Server::Step Server::serve(Conn& c, size_t& used) {
  switch (c.role) {
    case Role::swtpm_data: return swtpm_data_message(c, used);
    case Role::swtpm_ctrl: return swtpm_ctrl_message(c, used);
    case Role::mssim_cmd: return mssim_cmd_message(c, used);
    case Role::mssim_platform: return mssim_platform_message(c, used);
    default: return Step::close;
  }
}

void Server::on_readable(Conn& c) {
  uint8_t chunk[kReadChunk];
  size_t got = 0;
  const bool ctrl = c.role == Role::swtpm_ctrl;
  const IoStatus st = recv_some(c.fd, chunk, sizeof(chunk), got, ctrl ? &c.passed_fd : nullptr);
  if (st == IoStatus::again) return;
  if (st != IoStatus::ok) {
    // The peer is gone (or half-closed): serve what it sent, then close.
    serve_buffered(c);
    c.close_after_write = true;
    return;
  }
  const int64_t now = now_ms();
  c.last_active_ms = now;
  if (c.in.empty()) c.partial_since_ms = now;
  c.in.insert(c.in.end(), chunk, chunk + got);
  serve_buffered(c);
  if (!c.close_after_write && c.in.size() > kMaxBuffered) {
    log_.log("connection buffered %zu bytes without a complete message, closing", c.in.size());
    c.close_after_write = true;
  }
}

void Server::serve_buffered(Conn& c) {
  size_t pos = 0;
  while (pos < c.in.size() && !c.close_after_write && !terminate_) {
    // serve() looks at the bytes from the front of c.in.
    if (pos > 0) {
      c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(pos));
      pos = 0;
      c.partial_since_ms = now_ms();  // a new message starts
    }
    size_t used = 0;
    const Step s = serve(c, used);
    if (s == Step::need_more) break;
    if (s == Step::close) {
      c.close_after_write = true;
      break;
    }
    pos = used;
  }
  if (pos > 0) c.in.erase(c.in.begin(), c.in.begin() + static_cast<long>(pos));
  if (c.in.empty()) c.partial_since_ms = -1;
  if (c.close_after_write) c.in.clear();
  flush(c);
}

void Server::flush(Conn& c) {
  while (c.out_pos < c.out.size()) {
    size_t sent = 0;
    const IoStatus st = send_some(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, sent);
    if (st == IoStatus::error) {
      c.out.clear();
      c.out_pos = 0;
      c.close_after_write = true;
      return;
    }
    if (st == IoStatus::again || sent == 0) {
      if (c.out_since_ms < 0) c.out_since_ms = now_ms();
      return;
    }
    c.out_pos += sent;
    c.last_active_ms = now_ms();
  }
  c.out.clear();
  c.out_pos = 0;
  c.out_since_ms = -1;
}

// Closes connections that stalled mid-message, do not take their answers,
// or sat idle beyond the idle timeout (except QEMU's long-lived ones).
void Server::expire(int64_t now) {
  for (size_t i = 0; i < conns_.size();) {
    Conn& c = *conns_[i];
    bool drop = false;
    if (c.role >= Role::swtpm_data) {
      if (c.partial_since_ms >= 0 && now - c.partial_since_ms >= kMessageTimeoutMs) {
        log_.log("connection stalled mid-message, closing");
        drop = true;
      } else if (c.out_since_ms >= 0 && now - c.out_since_ms >= kMessageTimeoutMs) {
        log_.log("connection does not take its answer, closing");
        drop = true;
      } else if (idle_timeout_ms_ > 0 && !c.busy() && !c.is_data_fd && !c.unix_ctrl &&
                 now - c.last_active_ms >= idle_timeout_ms_) {
        drop = true;
      }
    }
    if (drop) close_conn(i);
    else ++i;
  }
}

int Server::run() {
  std::vector<pollfd> pfds;
  while (!terminate_ && !g_stop_requested) {
    pfds.clear();
    bool timed = false;
    for (const auto& c : conns_) {
      short ev = 0;
      if (c->role < Role::swtpm_data) {
        ev = POLLIN;
      } else {
        if (c->out_pos < c->out.size()) ev = POLLOUT;  // no new requests until the answer is taken
        else if (!c->close_after_write) ev = POLLIN;
        timed = true;
      }
      pfds.push_back({c->fd, ev, 0});
    }
    // Deadlines are checked at least every 100 ms while clients are connected.
    const int r = poll(pfds.data(), pfds.size(), timed ? 100 : -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "vtpm-service: poll: %s\n", strerror(errno));
      return EXIT_FAILURE;
    }
    // conns_ may grow while we serve (accept, SET_DATAFD): walk a snapshot.
    const size_t n = pfds.size();
    for (size_t i = 0; i < n && !terminate_; ++i) {
      if (pfds[i].revents == 0) continue;
      Conn& c = *conns_[i];
      if (c.role < Role::swtpm_data) {
        accept_on(c);
        continue;
      }
      if (pfds[i].revents & POLLOUT) flush(c);
      else if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(c);
    }
    // Close the finished connections (and those past a deadline).
    for (size_t i = 0; i < conns_.size();) {
      Conn& c = *conns_[i];
      if (c.role >= Role::swtpm_data && c.close_after_write && c.out_pos >= c.out.size()) close_conn(i);
      else ++i;
    }
    expire(now_ms());
  }
  if (g_stop_requested) fprintf(stderr, "vtpm-service: stop requested, saving state and exiting\n");
  // Answers already produced (CMD_SHUTDOWN's included) still go out.
  for (const auto& c : conns_) {
    if (c->out_pos < c->out.size()) send_all(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos, 200);
  }
  return EXIT_SUCCESS;
}

void Server::put_u32(Conn& c, uint32_t v) {
  uint8_t be[4];
  protocol::store_be32(be, v);
  c.out.insert(c.out.end(), be, be + 4);
}

void Server::run_command(const uint8_t* cmd, uint32_t len, uint8_t locality, std::vector<uint8_t>& rsp) {
  uint32_t rc = 0;
  if (!tpm_.running()) {
    rc = protocol::kTpmRcFailure;
  } else if (tpm_.execute(cmd, len, locality, rsp) != 0) {
    rc = protocol::kTpmRcFailure;
  }
  if (rc != 0) {
    rsp.resize(protocol::kTpmHeaderSize);
    protocol::write_error_response(rsp.data(), rsp.size(), rc);
  }
}

}  // namespace mamori::vtpm::host
