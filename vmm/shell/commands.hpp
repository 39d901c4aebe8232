// The shell's command table (docs/console.md lists them).
#pragma once
#include <stddef.h>
#include "boot/bootinfo.hpp"
#include "vmm/shell/shell.hpp"

namespace mamori::shell {
void commands_init(const boot::BootInfo& bi);
const Command* commands(size_t& count);
}  // namespace mamori::shell
