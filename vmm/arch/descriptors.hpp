// GDT, TSS and IDT of each CPU (SDM 3A §3.4.5 segment descriptors, §7.2.3
// 64-bit TSS, §6.14.1 64-bit IDT gates). Exceptions that may arrive on a
// broken stack (#DF, NMI, #MC) run on IST stacks of their own.
#pragma once
#include <stdint.h>
#include "vmm/arch/regs.hpp"

namespace mamori::arch {

inline constexpr uint16_t kKernelCs = 0x08;
inline constexpr uint16_t kKernelDs = 0x10;
inline constexpr uint16_t kTss = 0x18;
// Ring-3 segments for the service partition, in the order SYSRET wants
// them (SDM 3A §5.8.8: SS = STAR[63:48] + 8, CS = STAR[63:48] + 16).
inline constexpr uint16_t kUserBase = 0x28;        // unused 32-bit user code
inline constexpr uint16_t kUserDs = 0x30 | 3;
inline constexpr uint16_t kUserCs = 0x38 | 3;

// What the exception stubs (vmm/arch/entry.S) build: the register file
// (PUSH_GPRS, vmm/arch/gprs.S.inc), the vector and error code, and the
// frame the CPU pushed.
struct ExceptionFrame {
  Gprs regs;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;  // pushed by the CPU (SDM 3A §6.14.2)
};
static_assert(__builtin_offsetof(ExceptionFrame, vector) == 128 && __builtin_offsetof(ExceptionFrame, cs) == 152);

// Interrupt vectors with gates beside the exceptions: the service
// partition's budget timer (above every TPR class the VMM raises to, SDM 3A
// §10.8.3.1) and the LAPIC's spurious vector (drivers/lapic).
inline constexpr uint8_t kPartitionTimerVector = 0xF0;
// The kick: an IPI that makes the CPU running a vCPU leave the guest (an
// external-interrupt exit, SDM 3C §25.6.1) so that an interrupt another
// CPU raised for that vCPU is injected now, not at its next exit
// (vm/virtual_platform.cpp). Below the partition's TPR class (14), so it
// waits while an engine runs; its gate only EOIs, for the VMM's own code.
inline constexpr uint8_t kKickVector = 0xE0;
inline constexpr uint8_t kSpuriousVector = 0xFF;

// Loads this CPU's GDT (with its TSS) and the shared IDT.
void load_descriptors(unsigned cpu_index);
// Stack the CPU switches to on an interrupt or exception from ring 3
// (TSS.RSP0, SDM 3A §7.7).
void set_kernel_stack(unsigned cpu_index, uint64_t top);
// Host-state values the VMCS needs (SDM 3C §25.5): GDTR/IDTR/TR bases.
uint64_t gdt_base(unsigned cpu_index);
uint64_t tss_base(unsigned cpu_index);
uint64_t idt_base();

}  // namespace mamori::arch
