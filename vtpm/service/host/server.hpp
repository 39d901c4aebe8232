// Host mode: one single-threaded poll() loop serving the TPM over
//  - swtpm's data channel (TPM commands, framed by their header size) and
//    control channel (tpm_ioctl.h CMD_*), on TCP ports N and N+1 or, for
//    QEMU's -tpmdev emulator, a unix control socket whose data channel
//    arrives by CMD_SET_DATAFD;
//  - the Microsoft simulator's command and platform ports (tcti-mssim).
// Several front-ends may share the one TPM of this process. Every socket is
// non-blocking and every connection keeps its own partial message, so one
// slow client never stalls another (docs/vtpm.md, "Host mode limits").
#pragma once
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/host/io.hpp"

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
  // What one message did to its connection.
  enum class Step { need_more, done, close };

  Server(engine::TpmEngine& tpm, std::string bind_address, bool has_key, int idle_timeout_s = kDefaultIdleTimeoutS);
  ~Server();
  Server(const Server&) = delete;  // owns sockets
  Server& operator=(const Server&) = delete;
  bool listen(const Endpoint& e, std::string& err);
  // Serves until CMD_SHUTDOWN or SIGTERM/SIGINT (request_stop()); returns
  // the process exit status.
  int run();
  // Async-signal-safe: ends run() at its next turn.
  static void request_stop();

  // A connection idle (between messages) this long is closed; 0: never.
  static constexpr int kDefaultIdleTimeoutS = 600;
  // Connections per class: TPM traffic (swtpm data, mssim command port), and
  // control (swtpm control, mssim platform port) which has its own slots so
  // that a flood of data connections never locks out QEMU's control socket.
  static constexpr size_t kMaxDataClients = 64;
  static constexpr size_t kMaxCtrlClients = 8;

 private:
  // Listening roles come first: `role < Role::swtpm_data` means "accept".
  enum class Role {
    swtpm_data_listener, swtpm_ctrl_listener, mssim_cmd_listener, mssim_platform_listener,
    swtpm_data, swtpm_ctrl, mssim_cmd, mssim_platform,
  };
  // Per-connection state: the loop reads whatever arrives into `in`, serves
  // every complete message in it, and queues the answers in `out`; nothing
  // waits for one peer.
  struct Conn {
    int fd = -1;
    Role role = Role::swtpm_data;
    bool is_data_fd = false;     // passed by CMD_SET_DATAFD (QEMU's; never idles out)
    bool unix_ctrl = false;      // accepted on the unix control socket (QEMU's; never idles out)
    bool close_after_write = false;
    int passed_fd = -1;          // SCM_RIGHTS descriptor received, not yet claimed
    std::vector<uint8_t> in;     // received, not yet served
    std::vector<uint8_t> out;    // answers not yet taken by the peer
    size_t out_pos = 0;
    int64_t last_active_ms = 0;  // last byte in or out
    int64_t partial_since_ms = -1;  // first byte of an incomplete message (-1: between messages)
    int64_t out_since_ms = -1;      // answer queued and not taken
    bool busy() const { return !in.empty() || out_pos < out.size(); }
  };

  bool listen_tcp(uint16_t port, Role role, std::string& err);
  bool listen_unix(const std::string& path, Role role, std::string& err);
  void accept_on(const Conn& listener);
  static bool is_ctrl_class(Role r) { return r == Role::swtpm_ctrl || r == Role::mssim_platform; }
  // Room for one more connection of this class: evicts the least recently
  // active idle one when full; false when every one is mid-message.
  bool make_room(bool ctrl_class);
  void on_readable(Conn& c);
  void serve_buffered(Conn& c);
  void flush(Conn& c);
  void expire(int64_t now);
  Step serve(Conn& c, size_t& used);
  Conn* add_conn(int fd, Role role, bool is_data_fd = false);
  void close_conn(size_t index);

  // swtpm_channels.cpp
  Step swtpm_data_message(Conn& c, size_t& used);
  Step swtpm_ctrl_message(Conn& c, size_t& used);
  Step ctrl_set_stateblob(Conn& c, const uint8_t* req, uint32_t length);
  Step ctrl_get_stateblob(Conn& c, const uint8_t* req);
  Step ctrl_get_info(Conn& c, const uint8_t* req);
  // mssim_channels.cpp
  Step mssim_cmd_message(Conn& c, size_t& used);
  Step mssim_platform_message(Conn& c, size_t& used);
  // HASH_DATA of either protocol at `at`: u32 length, then the data, hashed
  // while rc (the caller's starting value) stays 0. Sets used (0: need
  // more); false for a length over the limit.
  bool hash_data(const Conn& c, size_t at, size_t& used, uint32_t& rc);

  // Runs a framed TPM command and produces a response (a TPM error response
  // if the TPM is not running or libtpms refused it).
  void run_command(const uint8_t* cmd, uint32_t len, uint8_t locality, std::vector<uint8_t>& rsp);
  static void put_u32(Conn& c, uint32_t v);

  engine::TpmEngine& tpm_;
  std::string bind_address_;
  bool has_key_;
  int64_t idle_timeout_ms_;

  std::vector<std::unique_ptr<Conn>> conns_;  // stable addresses: the list grows while serving
  std::vector<std::string> unix_paths_;
  uint8_t locality_ = 0;   // swtpm CMD_SET_LOCALITY
  bool data_fd_set_ = false;
  bool terminate_ = false;
  std::vector<uint8_t> rsp_;
  LogLimiter log_;
};

}  // namespace mamori::vtpm::host
