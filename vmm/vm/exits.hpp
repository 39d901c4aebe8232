// The exit dispatcher: one function per exit reason over typed exit
// information (vmx/exit_info.hpp), on the guest's own CPU.
#pragma once
#include "vmm/vm/guest.hpp"
#include "vmx/exit_info.hpp"

namespace mamori::vm {

enum class ExitAction : uint8_t {
  Resume,     // re-enter the guest
  Yield,      // its slice is over: let the next guest run
  Stop,       // the guest is stopped (state and reason already set)
};

ExitAction handle_exit(Guest& g, const vmx::ExitInfo& e);

// Stops the guest with a reason (logged as a containment report).
ExitAction stop_guest(Guest& g, GuestState s, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// A platform reset the guest asked for (0xCF9, the 8042, ACPI reset):
// it starts again from its image, its devices and TPM as after a power
// cycle. From an AP, vCPU 0 carries it out at its next scheduling point.
ExitAction platform_reset(Guest& g, const char* what);

// The guest's console line buffer (virtual UART and console hypercall).
void guest_console_put(Guest& g, char c);

}  // namespace mamori::vm
