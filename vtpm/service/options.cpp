#include "vtpm/service/options.hpp"

#include <string.h>

namespace mamori::vtpm {

const char* usage() {
  return
      "usage: vtpm-service [options]\n"
      "  (no --server)          partition mode: framed requests on fd 0, responses on fd 1\n"
      "  --server tcp:PORT      swtpm data channel on PORT, control channel on PORT+1\n"
      "  --server unix:PATH     swtpm control channel on a unix socket (QEMU -tpmdev emulator;\n"
      "                         the data channel arrives by CMD_SET_DATAFD)\n"
      "  --server mssim:PORT    Microsoft simulator: command port PORT, platform port PORT+1\n"
      "  --bind ADDR            IPv4 address for tcp/mssim servers (default 127.0.0.1)\n"
      "  --state DIR            keep the TPM state in DIR, sealed with AES-256-GCM\n"
      "  --key file:PATH|fd:N   the 32-byte sealing key (raw, or 64 hex digits); needed with --state\n"
      "  --no-init              do not power the TPM on at start (wait for CMD_INIT / POWER_ON)\n"
      "  --help\n";
}

bool parse_options(int argc, char** argv, Options& out, std::string& err) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& dst) {
      if (i + 1 >= argc) {
        err = arg + " needs a value";
        return false;
      }
      dst = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else if (arg == "--server") {
      std::string spec;
      host::Endpoint e{};
      if (!value(spec) || !host::parse_endpoint(spec, e, err)) return false;
      out.servers.push_back(e);
    } else if (arg == "--bind") {
      if (!value(out.bind_address)) return false;
    } else if (arg == "--state") {
      if (!value(out.state_dir)) return false;
    } else if (arg == "--key") {
      if (!value(out.key_spec)) return false;
    } else if (arg == "--no-init") {
      out.init_at_start = false;
    } else {
      err = "unknown option '" + arg + "'";
      return false;
    }
  }
  if (!out.state_dir.empty() && out.key_spec.empty()) {
    err = "--state needs --key: the state directory is always sealed";
    return false;
  }
  if (!out.key_spec.empty() && out.state_dir.empty()) {
    err = "--key is only used with --state";
    return false;
  }
  if (out.servers.empty() && !out.state_dir.empty()) {
    err = "--state is a host-mode option; in partition mode the holder keeps the state";
    return false;
  }
  return true;
}

}  // namespace mamori::vtpm
