// hello: greets through the UART and through the console-write hypercall,
// prints the Multiboot memory map it was given, and exits with status 0
// (docs/guests.md).
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "hello";

namespace {
constexpr size_t kNameCap = 64;   // longer than any mamori VM name (31)
constexpr size_t kLineCap = 160;

const char* mmap_type_name(uint32_t type) {
  // Multiboot 0.6.96 §3.3: 1 = available RAM, 3 = ACPI reclaimable,
  // 4 = preserved on hibernation, anything else reserved.
  switch (type) {
    case 1: return "available";
    case 3: return "ACPI";
    case 4: return "NVS";
    default: return "reserved";
  }
}
}  // namespace

void main() {
  char name[kNameCap];
  vm_name(name, sizeof name);
  const uint32_t id = mamori_present() ? vmcall(kHcGuestId) : 0;

  print("hello from %s (guest id %u) via the UART\n", name, id);
  char line[kLineCap];
  const size_t len = format(line, sizeof line, "hello from %s (guest id %u) via the console hypercall\n", name, id);
  const uint32_t written = console_write(line, static_cast<uint32_t>(len));
  if (written != len) print("hello: console write returned %u for %u bytes\n", written, static_cast<unsigned>(len));

  const multiboot::Info* mbi = boot_info();
  if (mbi == nullptr) {
    print("hello: no Multiboot information\n");
    exit(1);
  }
  print("hello: cmdline \"%s\"\n", cmdline());
  if (mbi->flags & multiboot::kInfoMemory)
    print("hello: mem_lower %u KiB, mem_upper %u KiB\n", mbi->mem_lower, mbi->mem_upper);
  if ((mbi->flags & multiboot::kInfoMmap) == 0) {
    print("hello: no memory map\n");
  } else {
    print("hello: memory map (%u bytes at 0x%x)\n", mbi->mmap_length, mbi->mmap_addr);
    uint32_t off = 0;
    while (off + sizeof(multiboot::MmapEntry) <= mbi->mmap_length) {
      const auto* e = reinterpret_cast<const multiboot::MmapEntry*>(mbi->mmap_addr + off);
      print("hello:   0x%016llx-0x%016llx type %u (%s)\n", e->base, e->base + e->length - 1,
            e->type, mmap_type_name(e->type));
      off += e->size + sizeof(e->size);
    }
  }
  print("hello: RAM ends at 0x%llx (%llu MiB)\n", ram_end(), ram_end() >> 20);
  print("hello: bye\n");
  // Option exit_port=PORT: end as a test kernel built for QEMU's
  // isa-debug-exit does (the VM's `exit_port` in mamori.cfg), status
  // (0x10 << 1) | 1 = 33.
  if (const uint32_t port = option("exit_port", 0)) {
    outb(static_cast<uint16_t>(port), 0x10);
    print("hello: FAIL still running after OUT to exit port 0x%x\n", port);
  }
  exit(0);
}

}  // namespace guest
