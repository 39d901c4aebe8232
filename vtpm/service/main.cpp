// vtpm-service: one TPM 2.0 (libtpms) per process.
//   host mode (--server ...): swtpm- and mssim-compatible sockets;
//   partition mode (default): framed messages on fds 0/1, for the VMM.
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "vtpm/service/engine/tpm_engine.hpp"
#include "vtpm/service/host/server.hpp"
#include "vtpm/service/options.hpp"
#include "vtpm/service/partition/partition_loop.hpp"
#include "vtpm/service/state/key_source.hpp"
#include "vtpm/service/state/state_dir.hpp"
#include "vtpm/service/state/tpm_counter.hpp"

using namespace mamori::vtpm;

namespace {

constexpr int kExitUsage = 2;

void on_stop_signal(int) { host::Server::request_stop(); }

// SIGTERM/SIGINT end the serving loop at its next turn (poll() returns
// EINTR: no SA_RESTART), so the TPM is stopped, the state directory closed
// and the process exits 0, as a service manager expects of a clean stop.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

int run_host(const Options& opt) {
  engine::TpmEngine& tpm = engine::TpmEngine::instance();
  std::string err;
  std::unique_ptr<state::MonotonicCounter> counter;  // outlives dir
  std::unique_ptr<state::StateDir> dir;
  if (!opt.state_dir.empty()) {
    state::SealingKey key{};
    if (!state::load_key(opt.key_spec, key, err)) {
      fprintf(stderr, "vtpm-service: %s\n", err.c_str());
      return EXIT_FAILURE;
    }
    state::StateDirOptions dopt;
    dopt.instance_id = opt.instance_id;
    dopt.adopt = opt.adopt_state;
    if (!opt.counter_spec.empty()) {
      counter = state::open_tpm_counter(opt.counter_spec, err);
      if (!counter) {
        fprintf(stderr, "vtpm-service: %s\n", err.c_str());
        return EXIT_FAILURE;
      }
      dopt.counter = counter.get();
    }
    dir = std::make_unique<state::StateDir>(opt.state_dir, key, dopt);
    key.fill(0);
    if (!dir->open(err) || !dir->load_into(tpm, err)) {
      fprintf(stderr, "vtpm-service: %s\n", err.c_str());
      return EXIT_FAILURE;
    }
    tpm.set_listener(dir.get());
  }
  host::Server server(tpm, opt.bind_address, !opt.key_spec.empty(), opt.idle_timeout_s);
  for (const host::Endpoint& e : opt.servers) {
    if (!server.listen(e, err)) {
      fprintf(stderr, "vtpm-service: %s\n", err.c_str());
      return EXIT_FAILURE;
    }
  }
  if (opt.init_at_start) {
    // A volatile blob from the state directory describes one moment
    // (CMD_STORE_VOLATILE): once resumed it is consumed, or a later restart
    // would roll the TPM back to it.
    const uint32_t rc = tpm.init(true);
    if (rc != 0) {
      fprintf(stderr, "vtpm-service: TPM initialisation failed: 0x%x\n", rc);
      return EXIT_FAILURE;
    }
  }
  install_stop_handlers();
  const int status = server.run();
  tpm.stop();
  tpm.set_listener(nullptr);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // The TPM's cryptography must not depend on the host's OpenSSL
  // configuration, and partition mode may open no files: skip openssl.cnf.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
  Options opt;
  std::string err;
  if (!parse_options(argc, argv, opt, err)) {
    fprintf(stderr, "vtpm-service: %s\n%s", err.c_str(), usage());
    return kExitUsage;
  }
  if (opt.help) {
    fputs(usage(), stdout);
    return EXIT_SUCCESS;
  }
  if (opt.servers.empty()) return partition::run(engine::TpmEngine::instance(), 0, 1);
  return run_host(opt);
}
