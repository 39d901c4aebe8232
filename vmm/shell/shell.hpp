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

// Prints the banner and the first prompt.
void start(const boot::BootInfo& bi);
// Handles whatever bytes the console has received; never blocks. Called
// by the bootstrap processor between guest slices (vm/scheduler.cpp).
void poll();
// `vm console NAME`: bytes go to that guest until the escape byte (Ctrl-]).
void attach(int guest_id);
inline constexpr char kDetachByte = 0x1D;

}  // namespace mamori::shell
