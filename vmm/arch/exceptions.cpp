// Exception reporting: every CPU exception in the VMM is a bug, so it is
// reported in full (name, error code, registers, CR2, backtrace) and the
// VMM stops cleanly — never a triple fault, never a silent hang.
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/descriptors.hpp"
#include "drivers/lapic/lapic.hpp"
#include "vmm/panic_internal.hpp"

namespace mamori::arch {
namespace {
// SDM 3A §6.15, Table 6-1.
const char* const kNames[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD exception", "#VE virtualization exception", "#CP control protection", "reserved 22",
    "reserved 23", "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security exception", "reserved 31"};
constexpr uint64_t kNmiVector = 2, kDoubleFault = 8, kMachineCheck = 18;
}  // namespace
}  // namespace mamori::arch

extern "C" [[noreturn]] void partition_user_fault(uint64_t vector, uint64_t error, uint64_t rip, uint64_t cr2);
extern "C" void partition_timer_interrupt(const mamori::arch::ExceptionFrame* f);

extern "C" void exception_dispatch(mamori::arch::ExceptionFrame* f) {
  using namespace mamori;
  using namespace mamori::arch;
  // From ring 3: a service-partition process faulted. It is stopped and
  // reported; the VMM carries on (vmm/partition/runner.cpp). NMI (the
  // panic's stop signal), #DF and #MC are the machine's, not the process's.
  // Interrupts (the only ones the VMM lets through, by TPR, while a
  // process runs): the budget timer, and the LAPIC's spurious vector (no EOI,
  // SDM 3A §10.9).
  if (f->vector == kPartitionTimerVector) return partition_timer_interrupt(f);
  if (f->vector == kSpuriousVector) return;
  if (f->vector == kKickVector) {  // its work is done by the exit it causes in a guest
    drivers::lapic::eoi();
    return;
  }
  const bool machine = f->vector == kNmiVector || f->vector == kDoubleFault || f->vector == kMachineCheck;
  if ((f->cs & 3) == 3 && !machine) partition_user_fault(f->vector, f->error, f->rip, cpu::read_cr2());
  if (f->vector == arch::kNmiVector && panic_detail::stop_requested()) panic_detail::park_this_cpu();
  const char* name = f->vector < 32 ? arch::kNames[f->vector] : "unexpected interrupt";
  panic_detail::report_and_stop(f, "CPU exception %lu (%s), error code 0x%lx", f->vector, name, f->error);
}
