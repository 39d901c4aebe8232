#include "panic.hpp"
#include <stdarg.h>
#include "drivers/lapic/lapic.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/mem/address_space.hpp"
#include "vmm/panic_internal.hpp"
#include "vmm/percpu.hpp"
#include "vmm/lib/format.hpp"

extern "C" char __image_start[], __text_end[];

namespace mamori {
namespace {
bool g_stop;
unsigned g_panicking;  // CPUs inside report_and_stop

bool is_vmm_text(uint64_t a) {
  return a >= reinterpret_cast<uint64_t>(__image_start) && a < reinterpret_cast<uint64_t>(__text_end);
}

// Frame-pointer walk (-fno-omit-frame-pointer): [rbp] = saved rbp,
// [rbp+8] = return address. Stops at anything implausible.
void backtrace(uint64_t rbp) {
  console::printf("backtrace (addr2line -e vmm.elf):\n");
  for (unsigned depth = 0; depth < 32; ++depth) {
    if (rbp == 0 || (rbp & 7) || rbp < 0xFFFF800000000000ull) break;
    uint64_t ret = reinterpret_cast<uint64_t*>(rbp)[1];
    if (!is_vmm_text(ret)) break;
    console::printf("  #%u 0x%lx\n", depth, ret);
    uint64_t next = reinterpret_cast<uint64_t*>(rbp)[0];
    if (next <= rbp) break;
    rbp = next;
  }
}
}  // namespace

namespace panic_detail {
bool stop_requested() { return __atomic_load_n(&g_stop, __ATOMIC_ACQUIRE); }

void park_this_cpu() {
  if (cpu::read_cr4() & cpu::cr4::kVmxEnable) asm volatile("vmxoff" ::: "cc", "memory");
  cpu::halt_forever();
}

void report_and_stop(const arch::ExceptionFrame* f, const char* fmt, ...) {
  cpu::cli();
  // The VMM's own tables: a fault may come while a service-partition
  // process's tables are loaded, which map no device and no VMM heap.
  if (uint64_t cr3 = mem::address_space_cr3(); cr3 && cpu::read_cr3() != cr3) cpu::write_cr3(cr3);
  __atomic_store_n(&g_stop, true, __ATOMIC_RELEASE);
  if (__atomic_fetch_add(&g_panicking, 1, __ATOMIC_ACQ_REL) > 0) {
    // Another CPU is already reporting: let it finish, then stop.
    for (unsigned i = 0; i < 100000000 && __atomic_load_n(&g_panicking, __ATOMIC_ACQUIRE); ++i) cpu::pause();
  }
  // Stop the others first so their output does not interleave with ours.
  drivers::lapic::send_nmi_all_but_self();
  console::force_unlock();
  console::printf("\n*** mamori PANIC on cpu%u: ", this_cpu_index());
  va_list ap;
  va_start(ap, fmt);
  console::vprintf(fmt, ap);
  va_end(ap);
  console::printf("\n");
  uint64_t rbp;
  if (f) {
    console::printf("rip=%016lx cs=%04lx rflags=%016lx rsp=%016lx ss=%04lx\n", f->rip, f->cs, f->rflags, f->rsp, f->ss);
    console::printf("rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->regs.rax, f->regs.rbx, f->regs.rcx, f->regs.rdx);
    console::printf("rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->regs.rsi, f->regs.rdi, f->regs.rbp, f->regs.r8);
    console::printf("r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", f->regs.r9, f->regs.r10, f->regs.r11, f->regs.r12);
    console::printf("r13=%016lx r14=%016lx r15=%016lx\n", f->regs.r13, f->regs.r14, f->regs.r15);
    if (is_vmm_text(f->rip)) console::printf("  at 0x%lx\n", f->rip);
    rbp = f->regs.rbp;
  } else {
    asm volatile("mov %%rbp, %0" : "=r"(rbp));
    uint64_t rsp;
    asm volatile("mov %%rsp, %0" : "=r"(rsp));
    console::printf("rsp=%016lx rbp=%016lx\n", rsp, rbp);
  }
  console::printf("cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx\n", cpu::read_cr0(), cpu::read_cr2(), cpu::read_cr3(),
                  cpu::read_cr4());
  backtrace(rbp);
  console::printf("*** all CPUs stopped. Reset the machine to continue.\n");
  park_this_cpu();
}
}  // namespace panic_detail

void stop_other_cpus() {
  __atomic_store_n(&g_stop, true, __ATOMIC_RELEASE);
  drivers::lapic::send_nmi_all_but_self();
}

void panic(const char* fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  struct Ctx { char* b; size_t len; } ctx{msg, 0};
  lib::vformat(lib::Sink{[](void* c, char ch) {
                           auto* x = static_cast<Ctx*>(c);
                           if (x->len + 1 < 256) x->b[x->len++] = ch;
                         },
                         &ctx},
               fmt, ap);
  msg[ctx.len] = 0;
  va_end(ap);
  panic_detail::report_and_stop(nullptr, "%s", msg);
}

}  // namespace mamori
