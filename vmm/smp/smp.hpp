// Starting the application processors (SDM 3A §8.4.4.1, "Typical AP
// Initialization Sequence"; INIT-SIPI-SIPI with the MP specification's
// delays). With a MADT each listed APIC gets targeted IPIs in turn; without
// one (OVMF under Bochs publishes no ACPI tables) a broadcast INIT-SIPI-SIPI
// starts whatever CPUs exist and they are counted as they report in.
#pragma once
#include <stdint.h>

namespace mamori::smp {

// apic_ids: the enabled local APICs from the MADT (the BSP's among them),
// or count == 0 for the broadcast start. Returns the CPUs online, BSP included.
unsigned start_aps(const uint32_t* apic_ids, unsigned count);

}  // namespace mamori::smp
