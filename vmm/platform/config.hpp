// mamori.cfg as the VMM uses it (format: docs/config.md; parser: vmm/core).
#pragma once
#include <stdint.h>
#include "boot/bootinfo.hpp"
#include "vmm/log.hpp"

namespace mamori::platform {

struct Config {
  uint16_t console_port = 0x3F8;
  uint32_t console_baud = 115200;
  log::Level log_level = log::Level::Info;
};

// Fills `cfg` from the loaded mamori.cfg (defaults where absent). Returns
// nullptr, or a message naming the line and the reason it was refused.
const char* config_load(const boot::BootInfo& bi, Config& cfg);
}  // namespace mamori::platform

namespace mamori::core { struct Config; }
namespace mamori::platform {
// The whole parsed file (VM sections included), defaults if it was refused.
const core::Config& parsed_config();

}  // namespace mamori::platform
