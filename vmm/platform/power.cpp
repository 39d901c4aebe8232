#include "power.hpp"
#include "vmm/panic.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/address_space.hpp"

namespace mamori::platform {
namespace {
// EFI_RESET_TYPE (UEFI 2.9 §8.5.1).
enum ResetType : uint32_t { kResetCold = 0, kResetShutdown = 2 };
// The runtime-services table: header (24 bytes) then 14 function pointers;
// ResetSystem is the 11th (UEFI 2.9 §4.5, EFI_RUNTIME_SERVICES).
constexpr unsigned kResetSystemSlot = 10;
constexpr uint64_t kTableHeaderBytes = 24;
using ResetSystem = void(__attribute__((ms_abi)) *)(uint32_t type, uint64_t status, uint64_t size, void* data);

ResetSystem g_reset;

// UEFI runtime images keep code and writable data in one
// EfiRuntimeServicesCode region (without the UEFI 2.6 memory attributes
// table, which OVMF here does not split finely). W^X holds for the VMM's
// life; only for this last call, with every other CPU stopped, does the
// CPU switch to a firmware address space where nothing is no-execute.
void firmware_reset(ResetType t) {
  if (!g_reset) return;
  stop_other_cpus();
  if (!mem::enter_firmware_address_space()) return;
  console::printf("mamori: asking the firmware to %s\n", t == kResetShutdown ? "power off" : "reset");
  g_reset(t, 0, 0, nullptr);
}
}  // namespace

void power_init(const boot::BootInfo& bi) {
  if (!bi.efi_runtime_services) return;
  auto* table = reinterpret_cast<const uint64_t*>(bi.efi_runtime_services + kTableHeaderBytes);
  g_reset = reinterpret_cast<ResetSystem>(table[kResetSystemSlot]);
}

void reboot() {
  cpu::cli();
  firmware_reset(kResetCold);
  cpu::outb(0xCF9, 0x02);  // PCI reset control: system reset (ICH/PIIX)
  cpu::outb(0xCF9, 0x06);
  cpu::outb(0x64, 0xFE);   // 8042 pulse reset line
  cpu::halt_forever();
}

void poweroff() {
  cpu::cli();
  firmware_reset(kResetShutdown);
  // Bochs: writing "Shutdown" to port 0x8900 ends the emulation.
  for (const char* s = "Shutdown"; *s; ++s) cpu::outb(0x8900, static_cast<uint8_t>(*s));
  console::printf("mamori: power-off failed; halting (safe to switch off)\n");
  cpu::halt_forever();
}

}  // namespace mamori::platform
