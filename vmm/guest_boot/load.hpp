// Loading a guest's boot image into its RAM: the one place that ties the
// boot formats together. identify() picks the format; its parser checks
// the file; the planner places the kernel, initrd/modules and command
// lines (layout.hpp); the kernel, the files and the format's boot
// information (boot_params, hvm_start_info or Multiboot info) are written
// into guest RAM through GuestRamWriter; the result is the entry state.
// vmm/vm/guest_create.cpp calls it on the guest's real RAM; the host tests
// on a vector. Pure: no allocation, everything untrusted is checked first.
//
// Command lines (docs/guest-abi.md "Boot formats"):
//   Linux, PVH  the config's cmdline as it is;
//   Multiboot   "NAME cmdline" (the VM name first: guests read their
//               options after the first word), each module "FILE args"
//               (the file name, then its `module =` text: as GRUB does).
// Modules: Linux and PVH take one, the initrd (module 0); Multiboot takes
// the initrd (if any) and then the `module =` files, at most kMaxModules.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_boot/entry_state.hpp"
#include "vmm/guest_boot/identify.hpp"
#include "vmm/guest_boot/layout.hpp"

namespace mamori::vmm::guest_boot {

// Guest RAM as the loader writes it: a writable view of [gpa, gpa + n), or
// nullptr when that is not all inside one of the guest's RAM ranges.
class GuestRamWriter {
 public:
  virtual uint8_t* bytes(uint64_t gpa, uint64_t n) = 0;

 protected:
  ~GuestRamWriter() = default;
};

struct BootFile {
  const uint8_t* data;  // nullptr: no such file
  size_t size;
  const char* name;     // for Multiboot module strings and messages
  const char* args;     // a module's text after the file name (may be nullptr or empty)
};

struct BootRequest {
  const char* vm_name;
  const char* cmdline;       // NUL-terminated, may be empty
  uint64_t ram_bytes;        // as layout.hpp's plan() wants it
  uint64_t acpi_rsdp;        // 0: none (boot_params acpi_rsdp_addr / hvm_start_info rsdp_paddr)
  BootFile kernel;
  BootFile initrd;           // data == nullptr: none
  BootFile modules[kMaxModules];  // Multiboot modules after the initrd
  size_t module_count;
};

enum class LoadError : uint32_t {
  None = 0,
  Refused,            // identify() refused the file: message/detail say what it is
  BadImage,           // the format's parser or load plan refused it (detail: why)
  ModulesNotMultiboot,// module = lines for a Linux/PVH kernel (it takes initrd =)
  TooManyModules,     // initrd + modules beyond kMaxModules
  NoPlace,            // plan() failed (detail: describe(PlanError))
  OutsideRam,         // a part the plan placed is not writable RAM (the writer said no)
};
const char* describe(LoadError e);

struct BootResult {
  LoadError error;
  ImageKind kind;
  const char* format;     // identify()'s name of the format, e.g. "a Linux bzImage"
  const char* message;    // for Refused: identify()'s "<what it is>"; else a short reason or nullptr
  const char* detail;     // a second part, or nullptr
  EntryState entry;       // for None
  // Linux and PVH enter with the boot GDT loaded (kBootCs/kBootDs/kBootTr);
  // Multiboot keeps the VMM's historic CS 0x08/data 0x10 (entry_state.hpp).
  bool boot_gdt;
  size_t module_count;
  uint64_t module_gpa[kMaxModules];
  uint64_t kernel_base, kernel_span;
};

// Writes everything into guest RAM (which the caller has zeroed) and
// returns the entry state, or the first reason the image cannot boot.
BootResult load_boot_image(const BootRequest& req, GuestRamWriter& ram);

}  // namespace mamori::vmm::guest_boot
