#include "smp.hpp"
#include "drivers/lapic/lapic.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/mem/paging.hpp"
#include "vmm/percpu.hpp"

extern "C" char ap_trampoline_begin[], ap_trampoline_end[];
extern "C" uint64_t ap_tp_offsets[7];
extern "C" void ap_entry64();

namespace mamori::smp {
namespace {
// Indices into ap_tp_offsets (trampoline.S).
enum TrampolineOffset { kPm32Target, kPm32, kGdtPtrBase, kGdt, kParams, kLm64Ptr, kLm64 };

struct TrampolineParams {
  uint64_t cr3;
  uint64_t stacks;  // VMM address of g_ap_stack_tops
  uint64_t entry;
  uint64_t ticket;     // VMM address of g_next_index
  uint64_t max_index;
};

constexpr uint64_t kApStackFrames = 4;      // 16 KiB per CPU
constexpr uint64_t kInitDeassertUs = 10000; // MP spec: 10 ms after INIT
constexpr uint64_t kSipiGapUs = 200;        // 200 us between SIPIs
constexpr uint64_t kReportInUs = 300000;    // per CPU, generous for emulators
constexpr uint64_t kBroadcastWaitUs = 300000;

uint64_t g_ap_stack_tops[kMaxCpus];
uint32_t g_next_index;  // CPU indices taken by APs in the trampoline

uint64_t deadline_after(uint64_t us) { return cpu::rdtsc() + drivers::tsc::hz() / 1000000 * us; }

uint32_t tickets() { return __atomic_load_n(&g_next_index, __ATOMIC_ACQUIRE); }

// Waits until CPU `index` left the Absent/Starting states (ap_main ran).
bool wait_reported(uint32_t index, uint64_t us) {
  uint64_t end = deadline_after(us);
  while (cpu::rdtsc() < end) {
    CpuState s = __atomic_load_n(&g_cpus[index].state, __ATOMIC_ACQUIRE);
    if (s != CpuState::Absent && s != CpuState::Starting) return true;
    cpu::pause();
  }
  return false;
}
}  // namespace

unsigned start_aps(const uint32_t* apic_ids, unsigned count) {
  uint32_t bsp = drivers::lapic::id();
  uint64_t page = mem::alloc_frame_below_1m();
  if (!page) {
    LOG_ERROR("smp: no free page below 1 MiB for the AP trampoline: running on the BSP only");
    return 1;
  }
  unsigned want = count ? count : kMaxCpus;  // stacks to prepare
  if (want > kMaxCpus) want = kMaxCpus;
  for (unsigned i = 1; i < want; ++i) {
    uint64_t stack = mem::alloc_frames(kApStackFrames, 1);
    if (!stack) { want = i; break; }
    g_ap_stack_tops[i] = stack + kApStackFrames * mem::kFrameSize;
    g_cpus[i].stack_top = g_ap_stack_tops[i];
  }
  uint64_t size = static_cast<uint64_t>(ap_trampoline_end - ap_trampoline_begin);
  auto* code = mem::phys_to_virt<uint8_t>(page);
  for (uint64_t i = 0; i < size; ++i) code[i] = static_cast<uint8_t>(ap_trampoline_begin[i]);
  auto patch32 = [&](TrampolineOffset at, uint64_t value) {
    *reinterpret_cast<uint32_t*>(code + ap_tp_offsets[at]) = static_cast<uint32_t>(value);
  };
  patch32(kPm32Target, page + ap_tp_offsets[kPm32]);
  patch32(kGdtPtrBase, page + ap_tp_offsets[kGdt]);
  patch32(kLm64Ptr, page + ap_tp_offsets[kLm64]);
  auto* params = reinterpret_cast<volatile TrampolineParams*>(code + ap_tp_offsets[kParams]);
  // The CR3 an AP loads in 32-bit mode must lie below 4 GiB (the loader
  // allocates its tables there, docs/boot.md).
  params->cr3 = cpu::read_cr3();
  params->stacks = reinterpret_cast<uint64_t>(g_ap_stack_tops);
  params->entry = reinterpret_cast<uint64_t>(&ap_entry64);
  g_next_index = 1;
  params->ticket = reinterpret_cast<uint64_t>(&g_next_index);
  params->max_index = want;
  // W^X: written above through the identity map, executed from now on.
  if (!mem::protect_identity(page, mem::kFrameSize, mem::Access::ReadExecute)) {
    LOG_ERROR("smp: cannot map the trampoline executable: running on the BSP only");
    return 1;
  }
  uint8_t vector = static_cast<uint8_t>(page >> 12);
  if (count == 0) {
    LOG_INFO("smp: no MADT: broadcast INIT-SIPI-SIPI, counting CPUs as they report in");
    drivers::lapic::send_init_all_but_self();
    drivers::tsc::delay_us(kInitDeassertUs);
    drivers::lapic::send_startup_all_but_self(vector);
    drivers::tsc::delay_us(kSipiGapUs);
    drivers::lapic::send_startup_all_but_self(vector);
    // Wait until no new CPU has arrived for a while.
    uint32_t seen = tickets();
    uint64_t end = deadline_after(kBroadcastWaitUs);
    while (cpu::rdtsc() < end) {
      if (tickets() != seen) { seen = tickets(); end = deadline_after(kBroadcastWaitUs); }
      cpu::pause();
    }
  } else {
    for (unsigned i = 0; i < count; ++i) {
      if (apic_ids[i] == bsp) continue;
      uint32_t before = tickets();
      if (before >= want) {
        LOG_WARN("smp: more than %u CPUs: APIC id %u left halted", want, apic_ids[i]);
        continue;
      }
      drivers::lapic::send_init(apic_ids[i]);
      drivers::tsc::delay_us(kInitDeassertUs);
      drivers::lapic::send_startup(apic_ids[i], vector);
      drivers::tsc::delay_us(kSipiGapUs);
      if (tickets() == before) drivers::lapic::send_startup(apic_ids[i], vector);
      if (!wait_reported(before, kReportInUs)) LOG_ERROR("smp: APIC id %u did not report in", apic_ids[i]);
    }
  }
  uint32_t arrived = tickets();
  if (arrived > want) arrived = want;
  unsigned online = 1;
  for (uint32_t i = 1; i < arrived; ++i) {
    if (wait_reported(i, kReportInUs)) ++online;
    else g_cpus[i].state = CpuState::Failed;
  }
  g_cpu_count = arrived;
  mem::protect_identity(page, mem::kFrameSize, mem::Access::ReadWrite);
  return online;
}

}  // namespace mamori::smp
