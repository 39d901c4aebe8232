// Host mode: one single-threaded poll() loop serving the TPM over
//  - swtpm's data channel (TPM commands, framed by their header size) and
//    control channel (tpm_ioctl.h CMD_*), on TCP ports N and N+1 or, for
//    QEMU's -tpmdev emulator, a unix control socket whose data channel
//    arrives by CMD_SET_DATAFD;
//  - the Microsoft simulator's command and platform ports (tcti-mssim).
// Several front-ends may share the one TPM of this process.
#pragma once
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/host/io.hpp"
#include "vtpm/service/wire/tpm_header.hpp"

namespace mamori::vtpm::host {

struct Endpoint {
  enum class Kind { swtpm_tcp, swtpm_unix, mssim_tcp };
  Kind kind;
  uint16_t port = 0;   // tcp kinds: first of the two ports
  std::string path;    // swtpm_unix: the control socket
};

// Parses "tcp:PORT", "unix:PATH" or "mssim:PORT".
bool parse_endpoint(const std::string& text, Endpoint& out, std::string& err);

class Server {
 public:
  // After a message: keep the connection, or close it.
  enum class Next { keep, close };

  Server(engine::TpmEngine& tpm, std::string bind_address, bool has_key);
  ~Server();
  Server(const Server&) = delete;  // owns sockets
  Server& operator=(const Server&) = delete;
  bool listen(const Endpoint& e, std::string& err);
  // Serves until CMD_SHUTDOWN; returns the process exit status.
  int run();

 private:
  // Listening roles come first: `role < Role::swtpm_data` means "accept".
  enum class Role {
    swtpm_data_listener, swtpm_ctrl_listener, mssim_cmd_listener, mssim_platform_listener,
    swtpm_data, swtpm_ctrl, mssim_cmd, mssim_platform,
  };
  struct Sock {
    int fd;
    Role role;
    bool is_data_fd = false;    // passed by CMD_SET_DATAFD
    std::vector<uint8_t> in;    // data channel: bytes read ahead of the current command
  };

  bool listen_tcp(uint16_t port, Role role, std::string& err);
  bool listen_unix(const std::string& path, Role role, std::string& err);
  void accept_on(const Sock& listener);
  Next serve(Sock& s);

  // swtpm_channels.cpp
  Next swtpm_data_message(Sock& s);
  Next swtpm_ctrl_message(int fd);
  Next ctrl_get_stateblob(int fd);
  Next ctrl_set_stateblob(int fd);
  Next ctrl_hash_data(int fd);
  Next ctrl_get_info(int fd);
  // mssim_channels.cpp
  Next mssim_cmd_message(int fd);
  Next mssim_platform_message(int fd);
  Next mssim_hash_data(int fd);

  // Runs a framed TPM command and produces a response (a TPM error response
  // if the TPM is not running or libtpms refused it).
  void run_command(const uint8_t* cmd, uint32_t len, uint8_t locality, std::vector<uint8_t>& rsp);

  engine::TpmEngine& tpm_;
  std::string bind_address_;
  bool has_key_;
  void add_sock(int fd, Role role, bool is_data_fd = false);
  // Data channel: one command framed by its header size, read through
  // s.in so the common case costs a single read().
  enum class Framed { ok, closed, bad_header };
  Framed read_command(Sock& s, const Deadline& d, std::vector<uint8_t>& cmd, wire::TpmHeader& th);

  std::vector<std::unique_ptr<Sock>> socks_;  // stable addresses: the list grows while serving
  std::vector<std::string> unix_paths_;
  uint8_t locality_ = 0;   // swtpm CMD_SET_LOCALITY
  bool data_fd_set_ = false;
  bool terminate_ = false;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> rsp_;
};

}  // namespace mamori::vtpm::host
