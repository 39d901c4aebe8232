// Command line of vtpm-service.
#pragma once
#include <string>
#include <vector>

#include "vtpm/service/host/server.hpp"

namespace mamori::vtpm {

struct Options {
  std::vector<host::Endpoint> servers;  // empty: partition mode
  std::string bind_address = "127.0.0.1";
  std::string state_dir;                // host mode: sealed state directory
  std::string key_spec;                 // "file:PATH" or "fd:N"
  std::string instance_id;              // host mode: the identity the state directory is bound to
  std::string counter_spec;             // host mode: TRANSPORT,INDEX of a physical-TPM NV counter
  bool adopt_state = false;             // host mode: bind sealed files that have no manifest yet
  bool init_at_start = true;            // host mode: TPM powered on at start, as swtpm socket
  int idle_timeout_s = host::Server::kDefaultIdleTimeoutS;  // host mode: 0 = never
  bool help = false;
};

// Returns false with err set on a bad command line.
bool parse_options(int argc, char** argv, Options& out, std::string& err);
const char* usage();

}  // namespace mamori::vtpm
