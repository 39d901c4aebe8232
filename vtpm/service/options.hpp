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
  bool init_at_start = true;            // host mode: TPM powered on at start, as swtpm socket
  bool help = false;
};

// Returns false with err set on a bad command line.
bool parse_options(int argc, char** argv, Options& out, std::string& err);
const char* usage();

}  // namespace mamori::vtpm
