#include "descriptors.hpp"
#include "vmm/percpu.hpp"

extern "C" uint64_t isr_table[32];
extern "C" void isr_224(), isr_240(), isr_255();

namespace mamori::arch {
namespace {

struct [[gnu::packed]] Tss64 {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};
static_assert(sizeof(Tss64) == 104);

struct [[gnu::packed]] DescriptorPointer {
  uint16_t limit;
  uint64_t base;
};

struct IdtGate {
  uint16_t offset_low, selector;
  uint8_t ist, type_attr;
  uint16_t offset_mid;
  uint32_t offset_high, reserved;
};
static_assert(sizeof(IdtGate) == 16);

constexpr unsigned kIstStackBytes = 8192;
constexpr unsigned kIstRecordBytes = 16;  // above the IST top: the PerCpu pointer (16: the CPU aligns RSP so)
enum Ist : uint8_t { kIstNone = 0, kIstDoubleFault = 1, kIstNmi = 2, kIstMachineCheck = 3 };
constexpr uint8_t kInterruptGate = 0x8E;  // present, DPL 0, 64-bit interrupt gate

// Code64: L=1, P=1, S=1, type=execute/read. Data: P=1, S=1, type=read/write.
constexpr uint64_t kGdtCode64 = 0x00AF9A000000FFFFull;
constexpr uint64_t kGdtData = 0x00CF92000000FFFFull;
// DPL 3 variants (access byte bits 6:5 = 3).
constexpr uint64_t kGdtUserCode32 = 0x00CFFA000000FFFFull;
constexpr uint64_t kGdtUserData = 0x00CFF2000000FFFFull;
constexpr uint64_t kGdtUserCode64 = 0x00AFFA000000FFFFull;

// In the entry area (vmm/link.ld): the CPU reads these while a process's
// page tables are live, so those tables map them (supervisor-only).
#define ENTRY_AREA [[gnu::section(".bss.entry_area")]]
ENTRY_AREA alignas(16) uint64_t g_gdt[kMaxCpus][8];
ENTRY_AREA alignas(16) Tss64 g_tss[kMaxCpus];
ENTRY_AREA alignas(16) uint8_t g_ist_stacks[kMaxCpus][3][kIstStackBytes];
ENTRY_AREA alignas(16) IdtGate g_idt[256];
bool g_idt_built;

void set_gate(unsigned v, uint64_t h, uint8_t ist) {
  g_idt[v] = IdtGate{static_cast<uint16_t>(h), kKernelCs, ist, kInterruptGate, static_cast<uint16_t>(h >> 16),
                     static_cast<uint32_t>(h >> 32), 0};
}

void build_idt() {
  for (unsigned v = 0; v < 32; ++v)
    set_gate(v, isr_table[v], v == 8 ? kIstDoubleFault : v == 2 ? kIstNmi : v == 18 ? kIstMachineCheck : kIstNone);
  set_gate(kKickVector, reinterpret_cast<uint64_t>(&isr_224), kIstNone);
  set_gate(kPartitionTimerVector, reinterpret_cast<uint64_t>(&isr_240), kIstNone);
  set_gate(kSpuriousVector, reinterpret_cast<uint64_t>(&isr_255), kIstNone);
  g_idt_built = true;
}

}  // namespace

void load_descriptors(unsigned cpu) {
  if (!g_idt_built) build_idt();
  Tss64& tss = g_tss[cpu];
  // Each IST stack's top 16 bytes hold this CPU's PerCpu address: the
  // paranoid entry (NMI, #DF, #MC; vmm/arch/entry.S) finds it there without
  // trusting GS, which may be ring 3's when they arrive.
  for (unsigned i = 0; i < 3; ++i) {
    uint8_t* top = &g_ist_stacks[cpu][i][kIstStackBytes - kIstRecordBytes];
    *reinterpret_cast<PerCpu**>(top) = &g_cpus[cpu];
    tss.ist[i] = reinterpret_cast<uint64_t>(top);
  }
  tss.iomap_base = sizeof(Tss64);  // no I/O permission bitmap
  uint64_t* gdt = g_gdt[cpu];
  gdt[0] = 0;
  gdt[1] = kGdtCode64;
  gdt[2] = kGdtData;
  // 16-byte available 64-bit TSS descriptor (type 9), SDM 3A §7.2.3.
  uint64_t base = reinterpret_cast<uint64_t>(&tss);
  uint64_t limit = sizeof(Tss64) - 1;
  gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xF) << 48) |
           (((base >> 24) & 0xFF) << 56);
  gdt[4] = base >> 32;
  gdt[5] = kGdtUserCode32;
  gdt[6] = kGdtUserData;
  gdt[7] = kGdtUserCode64;
  DescriptorPointer gdtr{sizeof(g_gdt[0]) - 1, reinterpret_cast<uint64_t>(gdt)};
  DescriptorPointer idtr{sizeof(g_idt) - 1, reinterpret_cast<uint64_t>(g_idt)};
  asm volatile(
      "lgdt %0\n"
      "lidt %1\n"
      "pushq %2\n"
      "lea 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "mov %3, %%ax\n"
      "mov %%ax, %%ds\n"
      "mov %%ax, %%es\n"
      "mov %%ax, %%ss\n"
      "xor %%eax, %%eax\n"
      "mov %%ax, %%fs\n"
      "mov %%ax, %%gs\n"
      "mov %4, %%ax\n"
      "ltr %%ax\n"
      :
      : "m"(gdtr), "m"(idtr), "i"(static_cast<uint64_t>(kKernelCs)), "i"(kKernelDs), "i"(kTss)
      : "rax", "memory");
}

void set_kernel_stack(unsigned cpu, uint64_t top) { g_tss[cpu].rsp[0] = top; }

uint64_t gdt_base(unsigned cpu) { return reinterpret_cast<uint64_t>(g_gdt[cpu]); }
uint64_t tss_base(unsigned cpu) { return reinterpret_cast<uint64_t>(&g_tss[cpu]); }
uint64_t idt_base() { return reinterpret_cast<uint64_t>(g_idt); }

}  // namespace mamori::arch
