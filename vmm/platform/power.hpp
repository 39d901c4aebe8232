// Reboot and power-off: through UEFI runtime ResetSystem (UEFI 2.9 §8.5.1),
// which knows the platform's reset and ACPI S5 registers, with fallbacks
// (port 0xCF9 reset, keyboard controller, Bochs' shutdown port).
#pragma once
#include "boot/bootinfo.hpp"

namespace mamori::platform {
void power_init(const boot::BootInfo& bi);  // maps runtime code executable
[[noreturn]] void reboot();
[[noreturn]] void poweroff();
}  // namespace mamori::platform
