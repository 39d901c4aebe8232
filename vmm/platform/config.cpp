#include "config.hpp"
#include "vmm/core/config.hpp"
#include "vmm/lib/format.hpp"

namespace mamori::platform {
namespace {
core::Config g_parsed;
char g_error[160];

log::Level to_level(core::ConfigLogLevel l) {
  switch (l) {
    case core::ConfigLogLevel::Debug: return log::Level::Debug;
    case core::ConfigLogLevel::Info: return log::Level::Info;
    case core::ConfigLogLevel::Warn: return log::Level::Warn;
    case core::ConfigLogLevel::Error: return log::Level::Error;
  }
  return log::Level::Info;
}
}  // namespace

const char* config_load(const boot::BootInfo& bi, Config& cfg) {
  core::config_defaults(g_parsed);
  if (bi.config) {
    core::ConfigResult r =
        core::parse_config(reinterpret_cast<const char*>(bi.config), bi.config_size, g_parsed);
    if (r.error != core::ConfigError::None) {
      // A refused config changes nothing: every setting keeps its default.
      core::config_defaults(g_parsed);
      if (r.line)
        lib::snformat(g_error, sizeof g_error, "mamori.cfg line %u: %s", r.line, core::describe(r.error));
      else
        lib::snformat(g_error, sizeof g_error, "mamori.cfg: %s", core::describe(r.error));
      cfg = Config{};
      return g_error;
    }
  }
  cfg.console_port = g_parsed.console_port;
  cfg.console_baud = g_parsed.baud;
  cfg.log_level = to_level(g_parsed.log);
  return nullptr;
}

const core::Config& parsed_config() { return g_parsed; }

}  // namespace mamori::platform
