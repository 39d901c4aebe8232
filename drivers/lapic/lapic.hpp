// Local APIC (SDM 3A ch. 10): xAPIC through MMIO, or x2APIC through MSRs
// when the firmware left it in x2APIC mode. Only what the VMM needs:
// its ID, IPIs (INIT, SIPI, NMI) and EOI.
#pragma once
#include <stdint.h>

namespace mamori::drivers::lapic {

void init();            // on each CPU; reads IA32_APIC_BASE and enables the APIC
bool x2apic_mode();
uint32_t id();
void send_init(uint32_t apic_id);
void send_startup(uint32_t apic_id, uint8_t vector_page);  // SIPI, page = addr >> 12
void send_nmi_all_but_self();
// Broadcast start-up, for platforms without a MADT (OVMF under Bochs).
void send_init_all_but_self();
void send_startup_all_but_self(uint8_t vector_page);
// A fixed interrupt, edge, physical destination (§10.6.1): the VMM's own
// wake-up IPI (vmm/arch/descriptors.hpp kKickVector).
void send_fixed(uint32_t apic_id, uint8_t vector);
bool ipi_pending();     // delivery status (xAPIC only; x2APIC has none)
void eoi();
// One-shot timer (SDM 3A §10.5.4): `vector` after `count` ticks of the
// APIC timer clock (divide by 1); timer_stop() disarms it. For the service
// partition's CPU budget (vmm/partition/runner.cpp).
void timer_one_shot(uint8_t vector, uint32_t count);
void timer_stop();
// LVT LINT0 (§10.5.1): masks it, returning the old value, and puts it back.
uint32_t mask_lint0();
void restore_lint0(uint32_t value);

}  // namespace mamori::drivers::lapic
