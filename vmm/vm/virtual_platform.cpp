#include "virtual_platform.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/vm/guest.hpp"

namespace mamori::vm {
namespace {
// The APIC timer's base rate (leaf 0x15's crystal): 25 MHz as on Skylake
// client parts (SDM 3A §18.7.3 Table 18-85 lists 24 MHz and 25 MHz
// crystals), or the TSC's own rate when that is lower (an emulator's TSC).
constexpr uint64_t kCrystalHz = 25'000'000;
}  // namespace

uint64_t guest_tsc_hz() { return drivers::tsc::hz(); }
uint64_t guest_apic_timer_hz() {
  uint64_t tsc = guest_tsc_hz();
  return tsc < kCrystalHz ? tsc : kCrystalHz;
}
uint32_t guest_apic_id(const Guest&) { return 0; }

// Not wired yet: the devices follow in the next commits.
bool create_platform(Guest&) { return true; }
void reset_platform(Guest&) {}
bool platform_io(Guest&, uint16_t, unsigned, bool, uint32_t&, PlatformAction& action) {
  action = PlatformAction::None;
  return false;
}
devices::lapic::MsrStatus platform_read_msr(Guest&, uint32_t, uint64_t&) { return devices::lapic::MsrStatus::NotMine; }
devices::lapic::MsrStatus platform_write_msr(Guest&, uint32_t, uint64_t) { return devices::lapic::MsrStatus::NotMine; }

}  // namespace mamori::vm
