#include "vtpm/service/options.hpp"

#include <cstdlib>

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
      "  --instance-id ID       bind the state directory to this instance (e.g. the VM's UUID)\n"
      "  --monotonic-counter TRANSPORT,INDEX\n"
      "                         refuse an older copy of the state directory: an NV counter in a\n"
      "                         physical TPM (device:/dev/tpmrm0 or swtpm:HOST:PORT), one per instance\n"
      "  --adopt-state          bind sealed files written before manifests existed (once)\n"
      "  --no-init              do not power the TPM on at start (wait for CMD_INIT / POWER_ON)\n"
      "  --idle-timeout SECONDS close a tcp client idle between messages this long (default 600;\n"
      "                         0 = never; QEMU's unix control connection and data fd never idle out)\n"
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
    } else if (arg == "--instance-id") {
      if (!value(out.instance_id)) return false;
    } else if (arg == "--monotonic-counter") {
      if (!value(out.counter_spec)) return false;
    } else if (arg == "--adopt-state") {
      out.adopt_state = true;
    } else if (arg == "--no-init") {
      out.init_at_start = false;
    } else if (arg == "--idle-timeout") {
      std::string v;
      if (!value(v)) return false;
      char* end = nullptr;
      const long n = strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 86400) {
        err = "bad --idle-timeout '" + v + "' (0..86400 seconds)";
        return false;
      }
      out.idle_timeout_s = static_cast<int>(n);
    } else {
      err = "unknown option '" + arg + "'";
      return false;
    }
  }
  if (!out.state_dir.empty() && out.key_spec.empty()) {
    err = "--state needs --key: the state directory is always sealed";
    return false;
  }
  if (out.state_dir.empty() && (!out.instance_id.empty() || !out.counter_spec.empty() || out.adopt_state)) {
    err = "--instance-id, --monotonic-counter and --adopt-state are used with --state";
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
