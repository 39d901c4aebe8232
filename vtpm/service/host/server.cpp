#include "vtpm/service/host/server.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>

#include "vtpm/service/host/io.hpp"
#include "vtpm/service/wire/tpm_header.hpp"

namespace mamori::vtpm::host {

namespace {

constexpr int kListenBacklog = 16;
// At most this many open client connections; further ones wait in the backlog.
constexpr size_t kMaxClients = 64;

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

Server::Server(engine::TpmEngine& tpm, std::string bind_address, bool has_key)
    : tpm_(tpm), bind_address_(std::move(bind_address)), has_key_(has_key) {}

Server::~Server() {
  for (const auto& s : socks_) close(s->fd);
  for (const std::string& p : unix_paths_) unlink(p.c_str());
}

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
  add_sock(fd, role);
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
  add_sock(fd, role);
  unix_paths_.push_back(path);
  return true;
}

void Server::accept_on(const Sock& listener) {
  const int fd = accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  size_t clients = 0;
  for (const auto& s : socks_) clients += (s->role >= Role::swtpm_data) ? 1 : 0;
  if (clients >= kMaxClients) {
    fprintf(stderr, "vtpm-service: too many connections, refusing one\n");
    close(fd);
    return;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on unix sockets
  Role role = Role::swtpm_data;
  switch (listener.role) {
    case Role::swtpm_data_listener: role = Role::swtpm_data; break;
    case Role::swtpm_ctrl_listener: role = Role::swtpm_ctrl; break;
    case Role::mssim_cmd_listener: role = Role::mssim_cmd; break;
    case Role::mssim_platform_listener: role = Role::mssim_platform; break;
    default: close(fd); return;
  }
  add_sock(fd, role);
}

void Server::add_sock(int fd, Role role, bool is_data_fd) {
  auto s = std::make_unique<Sock>();
  s->fd = fd;
  s->role = role;
  s->is_data_fd = is_data_fd;
  socks_.push_back(std::move(s));
}

Server::Next Server::serve(Sock& s) {
  switch (s.role) {
    case Role::swtpm_data: return swtpm_data_message(s);
    case Role::swtpm_ctrl: return swtpm_ctrl_message(s.fd);
    case Role::mssim_cmd: return mssim_cmd_message(s.fd);
    case Role::mssim_platform: return mssim_platform_message(s.fd);
    default: return Next::keep;
  }
}

int Server::run() {
  std::vector<pollfd> pfds;
  while (!terminate_) {
    pfds.clear();
    for (const auto& s : socks_) pfds.push_back({s->fd, POLLIN, 0});
    const int r = poll(pfds.data(), pfds.size(), -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "vtpm-service: poll: %s\n", strerror(errno));
      return EXIT_FAILURE;
    }
    // socks_ may grow while we serve (accept, SET_DATAFD): walk a snapshot.
    const size_t n = pfds.size();
    std::vector<int> to_close;
    for (size_t i = 0; i < n && !terminate_; ++i) {
      if (pfds[i].revents == 0) continue;
      Sock& s = *socks_[i];
      if (s.role < Role::swtpm_data) {
        accept_on(s);
        continue;
      }
      Next next = serve(s);
      // Bytes already read ahead (pipelined commands) raise no poll event.
      while (next == Next::keep && !s.in.empty() && !terminate_) next = serve(s);
      if (next == Next::close) to_close.push_back(s.fd);
    }
    for (int fd : to_close) {
      for (size_t i = 0; i < socks_.size(); ++i) {
        if (socks_[i]->fd != fd) continue;
        if (socks_[i]->is_data_fd) data_fd_set_ = false;
        socks_.erase(socks_.begin() + static_cast<long>(i));
        break;
      }
      close(fd);
    }
  }
  return EXIT_SUCCESS;
}

void Server::run_command(const uint8_t* cmd, uint32_t len, uint8_t locality, std::vector<uint8_t>& rsp) {
  uint32_t rc = 0;
  if (!tpm_.running()) {
    rc = wire::kTpmRcFailure;
  } else if (tpm_.execute(cmd, len, locality, rsp) != 0) {
    rc = wire::kTpmRcFailure;
  }
  if (rc != 0) {
    rsp.resize(wire::kTpmHeaderSize);
    wire::make_tpm_error_response(rsp.data(), rsp.size(), rc);
  }
}

}  // namespace mamori::vtpm::host
