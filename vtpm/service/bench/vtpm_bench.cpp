// vtpm-bench: commands per second for GetRandom(32), PCR_Extend(sha256),
// ECC P-256 sign and RSA-2048 sign, through one client loop over
//   tcp  HOST PORT      a swtpm data channel (swtpm itself or vtpm-service)
//   pipe PROGRAM        a partition-mode vtpm-service on a pipe pair
//   pair PORT_A PORT_B  two swtpm data channels measured in alternating
//                       0.25 s slices (GetRandom, PCR_Extend), so both see
//                       the same background load: a paired comparison
// usage: vtpm-bench tcp PORT [SECONDS [SERVER_PID]] | vtpm-bench pipe PROGRAM [SECONDS]
//        | vtpm-bench pair PORT_A PORT_B [SECONDS]
// Prints one line per command: name, operations, seconds, ops/s, and, when
// the server's PID is known, the server's CPU time per operation (utime +
// stime from /proc/PID/stat): a figure that other load on the machine
// disturbs far less than wall-clock throughput.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "vtpm/service/bench/tpm_commands.hpp"
#include "vtpm/protocol/bytes.hpp"
#include "vtpm/protocol/partition_frame.hpp"

using namespace mamori::vtpm;
using bench::Bytes;

namespace {

constexpr double kDefaultSeconds = 3.0;
constexpr uint32_t kBenchPcr = 16;        // resettable debug PCR
constexpr uint32_t kTpmRcInitialize = 0x100;  // already started: fine
constexpr size_t kMaxResponse = 4096;
constexpr uint32_t kTpmRcRetry = 0x922;  // TPM 2.0 Part 2 §6.6.3: resend the command

bool read_full(int fd, uint8_t* p, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read(fd, p + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool write_full(int fd, const uint8_t* p, size_t n) {
  size_t put = 0;
  while (put < n) {
    const ssize_t r = write(fd, p + put, n - put);
    if (r <= 0) return false;
    put += static_cast<size_t>(r);
  }
  return true;
}

// One request/response over some transport.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual bool exchange(const Bytes& cmd, Bytes& rsp) = 0;
};

// swtpm data channel: the command as is; the response framed by its header.
class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(int fd) : fd_(fd) {}
  ~TcpTransport() override { close(fd_); }
  bool exchange(const Bytes& cmd, Bytes& rsp) override {
    if (!write_full(fd_, cmd.data(), cmd.size())) return false;
    rsp.resize(10);
    if (!read_full(fd_, rsp.data(), 10)) return false;
    const uint32_t size = protocol::load_be32(rsp.data() + 2);
    if (size < 10 || size > kMaxResponse) return false;
    rsp.resize(size);
    return read_full(fd_, rsp.data() + 10, size - 10);
  }

 private:
  int fd_;
};

// Partition mode: frames over a pipe pair; state_changed frames are read
// (and kept, as the VMM would) before the response.
class PipeTransport final : public Transport {
 public:
  PipeTransport(int to, int from, pid_t pid) : to_(to), from_(from), pid_(pid) {}
  ~PipeTransport() override {
    close(to_);
    close(from_);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  bool exchange(const Bytes& cmd, Bytes& rsp) override { return request(protocol::FrameType::tpm_command, 0, cmd, rsp); }
  pid_t pid() const { return pid_; }
  bool request(protocol::FrameType type, uint8_t arg, const Bytes& payload, Bytes& out) {
    frame_.resize(protocol::kFrameHeaderSize + payload.size());
    protocol::encode_frame_header({type, arg, static_cast<uint32_t>(payload.size())}, frame_.data(), frame_.size());
    memcpy(frame_.data() + protocol::kFrameHeaderSize, payload.data(), payload.size());
    if (!write_full(to_, frame_.data(), frame_.size())) return false;
    for (;;) {
      uint8_t hdr[protocol::kFrameHeaderSize];
      if (!read_full(from_, hdr, sizeof(hdr))) return false;
      protocol::FrameHeader h{};
      if (protocol::decode_frame_header(hdr, sizeof(hdr), h) != protocol::FrameError::none) return false;
      out.resize(h.length);
      if (h.length > 0 && !read_full(from_, out.data(), h.length)) return false;
      if (h.type != protocol::FrameType::state_changed) return true;
      held_state_ = out;
    }
  }

 private:
  int to_, from_;
  pid_t pid_;
  Bytes frame_;
  Bytes held_state_;
};

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// utime + stime of a process in clock ticks (/proc/PID/stat fields 14, 15).
long long cpu_ticks(pid_t pid) {
  if (pid <= 0) return -1;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[1024];
  const size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  const char* p = strrchr(buf, ')');  // the command name may contain spaces
  if (p == nullptr) return -1;
  long long utime = 0, stime = 0;
  // after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) != 2) return -1;
  return utime + stime;
}

pid_t g_server_pid = -1;

bool run(Transport& t, const char* name, double seconds, const std::function<Bytes(uint64_t)>& make) {
  Bytes rsp;
  uint64_t ops = 0;
  uint64_t retries = 0;
  const long long cpu_start = cpu_ticks(g_server_pid);
  const double start = now_s();
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i, ++ops) {
      for (;;) {
        if (!t.exchange(make(ops), rsp)) {
          fprintf(stderr, "vtpm-bench: %s: transport failed\n", name);
          return false;
        }
        const uint32_t rc = bench::response_code(rsp);
        if (rc == 0) break;
        if (rc != kTpmRcRetry) {
          fprintf(stderr, "vtpm-bench: %s failed (rc 0x%x)\n", name, rc);
          return false;
        }
        ++retries;  // counted, not an operation
      }
    }
    elapsed = now_s() - start;
  } while (elapsed < seconds);
  const long long cpu_end = cpu_ticks(g_server_pid);
  char cpu[64] = "";
  if (cpu_start >= 0 && cpu_end >= 0) {
    const double us_per_op = static_cast<double>(cpu_end - cpu_start) * 1e6 /
                             static_cast<double>(sysconf(_SC_CLK_TCK)) / static_cast<double>(ops);
    snprintf(cpu, sizeof(cpu), " %9.1f us server CPU/op", us_per_op);
  }
  printf("%-16s %8llu ops %6.2f s %10.0f ops/s%s  (%llu TPM_RC_RETRY resent)\n", name,
         static_cast<unsigned long long>(ops), elapsed, static_cast<double>(ops) / elapsed, cpu,
         static_cast<unsigned long long>(retries));
  fflush(stdout);
  return true;
}

// Runs `make` commands for about `seconds`; adds to ops and elapsed.
bool slice(Transport& t, double seconds, const std::function<Bytes(uint64_t)>& make, uint64_t& ops,
           double& elapsed) {
  Bytes rsp;
  const double start = now_s();
  double spent = 0;
  do {
    for (int i = 0; i < 16; ++i) {
      if (!t.exchange(make(ops), rsp)) return false;
      const uint32_t rc = bench::response_code(rsp);
      if (rc == kTpmRcRetry) { --i; continue; }
      if (rc != 0) return false;
      ++ops;
    }
    spent = now_s() - start;
  } while (spent < seconds);
  elapsed += spent;
  return true;
}

constexpr double kPairSlice = 0.25;

// Alternates A and B in short slices for `seconds` each; prints both rates.
bool run_pair(Transport& a, Transport& b, const char* name, double seconds,
              const std::function<Bytes(uint64_t)>& make) {
  uint64_t ops_a = 0, ops_b = 0;
  double t_a = 0, t_b = 0;
  while (t_a < seconds || t_b < seconds) {
    if (!slice(a, kPairSlice, make, ops_a, t_a) || !slice(b, kPairSlice, make, ops_b, t_b)) {
      fprintf(stderr, "vtpm-bench: %s failed\n", name);
      return false;
    }
  }
  const double ra = static_cast<double>(ops_a) / t_a;
  const double rb = static_cast<double>(ops_b) / t_b;
  printf("%-16s A %10.0f ops/s   B %10.0f ops/s   B/A %5.2f\n", name, ra, rb, rb / ra);
  fflush(stdout);
  return true;
}

int connect_tcp(const char* port_text) {
  const int port = atoi(port_text);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

PipeTransport* spawn_partition(const char* program) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return nullptr;
  const pid_t pid = fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(program, program, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  auto* t = new PipeTransport(in[1], out[0], pid);
  Bytes r;
  if (!t->request(protocol::FrameType::init, 0, {}, r) || r.size() != 4 || protocol::load_le32(r.data()) != 0) {
    delete t;
    return nullptr;
  }
  return t;
}

// VmRSS of a process in kB (/proc/PID/status), 0 if unknown.
long rss_kb(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  char line[256];
  long kb = 0;
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
  }
  fclose(f);
  return kb;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s tcp PORT [SECONDS [PID]] | pipe PROGRAM [SECONDS] | pair PORT_A PORT_B [SECONDS]\n",
            argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (strcmp(argv[1], "pair") == 0) {
    if (argc < 4) return 2;
    const double secs = argc > 4 ? atof(argv[4]) : kDefaultSeconds;
    const int fa = connect_tcp(argv[2]);
    const int fb = connect_tcp(argv[3]);
    if (fa < 0 || fb < 0) {
      fprintf(stderr, "vtpm-bench: cannot reach both TPMs\n");
      return 1;
    }
    TcpTransport a(fa), b(fb);
    Bytes r;
    for (Transport* t : {static_cast<Transport*>(&a), static_cast<Transport*>(&b)}) {
      if (!t->exchange(bench::startup_clear(), r) ||
          (bench::response_code(r) != 0 && bench::response_code(r) != kTpmRcInitialize)) {
        fprintf(stderr, "vtpm-bench: Startup failed\n");
        return 1;
      }
    }
    bool ok = run_pair(a, b, "GetRandom(32)", secs, [](uint64_t) { return bench::get_random(32); });
    ok = ok && run_pair(a, b, "PCR_Extend", secs, [](uint64_t i) {
      return bench::pcr_extend_sha256(kBenchPcr, static_cast<uint8_t>(i));
    });
    return ok ? 0 : 1;
  }
  const double seconds = argc > 3 ? atof(argv[3]) : kDefaultSeconds;
  Transport* t = nullptr;
  PipeTransport* pipe_t = nullptr;
  if (strcmp(argv[1], "tcp") == 0) {
    const int fd = connect_tcp(argv[2]);
    if (fd >= 0) t = new TcpTransport(fd);
    if (argc > 4) g_server_pid = static_cast<pid_t>(atoi(argv[4]));
  } else if (strcmp(argv[1], "pipe") == 0) {
    t = pipe_t = spawn_partition(argv[2]);
    if (pipe_t != nullptr) g_server_pid = pipe_t->pid();
  }
  if (t == nullptr) {
    fprintf(stderr, "vtpm-bench: cannot reach the TPM\n");
    return 1;
  }
  Bytes rsp;
  if (!t->exchange(bench::startup_clear(), rsp) ||
      (bench::response_code(rsp) != 0 && bench::response_code(rsp) != kTpmRcInitialize)) {
    fprintf(stderr, "vtpm-bench: Startup failed\n");
    return 1;
  }
  uint32_t keys[2] = {};
  const bench::KeyKind kinds[2] = {bench::KeyKind::ecc_p256, bench::KeyKind::rsa_2048};
  for (int i = 0; i < 2; ++i) {
    if (!t->exchange(bench::create_primary_signing(kinds[i]), rsp) || bench::response_code(rsp) != 0) {
      fprintf(stderr, "vtpm-bench: CreatePrimary failed (rc 0x%x)\n", bench::response_code(rsp));
      return 1;
    }
    keys[i] = bench::response_handle(rsp);
  }
  bool ok = run(*t, "GetRandom(32)", seconds, [](uint64_t) { return bench::get_random(32); });
  ok = ok && run(*t, "PCR_Extend", seconds, [](uint64_t i) {
    return bench::pcr_extend_sha256(kBenchPcr, static_cast<uint8_t>(i));
  });
  ok = ok && run(*t, "Sign ECC P-256", seconds, [&](uint64_t i) {
    return bench::sign_sha256(keys[0], kinds[0], static_cast<uint8_t>(i));
  });
  ok = ok && run(*t, "Sign RSA-2048", seconds, [&](uint64_t i) {
    return bench::sign_sha256(keys[1], kinds[1], static_cast<uint8_t>(i));
  });
  if (pipe_t != nullptr) printf("partition-mode VmRSS %ld kB\n", rss_kb(pipe_t->pid()));
  delete t;
  return ok ? 0 : 1;
}
