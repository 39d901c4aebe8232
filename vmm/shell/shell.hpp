// The VMM shell on the serial console (docs/console.md).
#pragma once
#include "boot/bootinfo.hpp"

namespace mamori::shell {

struct Command {
  const char* name;
  const char* usage;   // arguments, "" if none
  const char* help;    // one line
  // argv[0] is the command name. Returns false on bad arguments (the shell
  // then prints the usage).
  bool (*run)(int argc, const char** argv);
};

[[noreturn]] void run(const boot::BootInfo& bi);

}  // namespace mamori::shell
