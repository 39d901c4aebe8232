// Test helper: one `swtpm socket` process (TCP data + control channel) in a
// private state directory, stopped when the object goes away.
#pragma once
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace mamori::vtpm::migration::test {

inline bool port_free(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

inline bool can_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

class SwtpmProcess {
 public:
  // unix_ctrl: the control channel on a unix socket (QEMU's way) instead of TCP.
  explicit SwtpmProcess(const std::string& name, bool unix_ctrl = false) : unix_ctrl_(unix_ctrl) {
    dir_ = std::filesystem::temp_directory_path() / ("mamori-mig-" + name + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::mt19937 rng(static_cast<unsigned>(getpid()) * 7919u + static_cast<unsigned>(std::hash<std::string>{}(name)));
    // Ports below the kernel's ephemeral range (32768+), where no outgoing
    // connection can hold them; a start that loses a race is retried.
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
      do {
        port_ = static_cast<uint16_t>(kPortBase + (rng() % kPortPairs) * 2);
      } while (!port_free(port_) || !port_free(static_cast<uint16_t>(port_ + 1)));
      if (start()) return;
    }
    throw std::runtime_error("swtpm did not start (is it installed?)");
  }
  ~SwtpmProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SwtpmProcess(const SwtpmProcess&) = delete;
  SwtpmProcess& operator=(const SwtpmProcess&) = delete;

  std::string data_spec() const { return "swtpm:127.0.0.1:" + std::to_string(port_); }
  std::string ctrl_endpoint() const {
    return unix_ctrl_ ? "unix:" + ctrl_path() : "127.0.0.1:" + std::to_string(port_ + 1);
  }
  uint16_t port() const { return port_; }

 private:
  static constexpr int kStartAttempts = 5;
  static constexpr unsigned kPortBase = 20000;
  static constexpr unsigned kPortPairs = 6000;  // 20000..31998

  bool start() {
    std::string server = "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1";
    std::string ctrl = unix_ctrl_ ? "type=unixio,path=" + ctrl_path()
                                  : "type=tcp,port=" + std::to_string(port_ + 1) + ",bindaddr=127.0.0.1";
    std::string state = "dir=" + dir_.string();
    pid_ = fork();
    if (pid_ == 0) {
      execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server.c_str(), "--ctrl", ctrl.c_str(), "--flags",
             "not-need-init,startup-clear", "--tpmstate", state.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (unix_ctrl_ ? std::filesystem::exists(ctrl_path()) && can_connect(port_)
                     : can_connect(static_cast<uint16_t>(port_ + 1)))
        return true;
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return false;
  }

  std::string ctrl_path() const { return (dir_ / "ctrl.sock").string(); }

  bool unix_ctrl_ = false;
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mamori::vtpm::migration::test
