// Running a process and serving its system calls (Linux x86-64 numbers
// and semantics; the one table of them: vtpm/protocol/syscalls.hpp, its
// handlers and argument checks: vmm/partition/syscall_check.hpp).
#include "drivers/lapic/lapic.hpp"
#include "drivers/timer/tsc.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/descriptors.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/lib/format.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/partition/process.hpp"
#include "vmm/partition/syscall_check.hpp"
#include "vmm/partition/user_memory.hpp"
#include "vmm/percpu.hpp"

extern "C" [[noreturn]] void partition_leave_fault();

namespace mamori::partition {
namespace {
using namespace syscall;  // the handlers, errno values and argument checks (pure: syscall_check.hpp)
constexpr uint64_t kArchSetFs = 0x1002, kArchGetFs = 0x1003;
constexpr uint64_t kFutexCmdMask = 0x7F, kFutexWait = 0, kFutexWake = 1;
constexpr uint64_t kRlimitStack = 3, kRlimInfinity = ~0ull, kStackLimit = 8ull << 20;

Process* g_current[kMaxCpus];
constexpr uint64_t kTracedSyscalls = 200;  // the first ones of each process, at log level debug

uint64_t err(int64_t e) { return static_cast<uint64_t>(-e); }
uint64_t page_up(uint64_t a) { return (a + kPage - 1) & ~(kPage - 1); }

void log_byte(Process& p, char c) {
  if (c != '\n' && p.log_len < kLogLineCap) {
    p.log_line[p.log_len++] = (c >= 0x20 && c < 0x7F) ? c : '?';
    return;
  }
  p.log_line[p.log_len] = 0;
  LOG_INFO("vtpm %s: %s", p.name, p.log_line);
  p.log_len = 0;
}

uint64_t sys_write(Process& p, uint64_t fd, uint64_t buf, uint64_t n) {
  if (fd != 1 && fd != 2) return err(kEBADF);
  uint8_t chunk[256];
  uint64_t done = 0;
  while (done < n) {
    uint64_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
    if (!copy_from_user(p, buf + done, chunk, k)) return done ? done : err(kEFAULT);
    for (uint64_t i = 0; i < k; ++i) {
      if (fd == 2) {
        log_byte(p, static_cast<char>(chunk[i]));
      } else {
        if (p.output_len == kOutputCap) return done + i ? done + i : err(kEAGAIN);
        p.output[p.output_len++] = chunk[i];
      }
    }
    done += k;
  }
  return n;
}

// Returns true when the read was satisfied now; false = block.
bool try_read(Process& p, uint64_t buf, uint64_t n, uint64_t& result) {
  size_t avail = p.input_len - p.input_pos;
  if (avail == 0) return false;
  uint64_t k = n < avail ? n : avail;
  if (!copy_to_user(p, buf, p.input + p.input_pos, k)) {
    result = err(kEFAULT);
    return true;
  }
  p.input_pos += k;
  result = k;
  return true;
}

uint64_t sys_brk(Process& p, uint64_t want) {
  if (!brk_allowed(want, p.brk_start, p.brk_limit)) return p.brk;
  if (want > p.brk) {
    if (!map_user_pages(p, p.brk, want - p.brk, kProtRead | kProtWrite)) return p.brk;
  } else if (page_up(want) < page_up(p.brk)) {
    unmap_user_pages(p, page_up(want), page_up(p.brk) - page_up(want));
  }
  p.brk = want;
  return p.brk;
}

uint64_t sys_mmap(Process& p, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd) {
  (void)fd;  // ignored for anonymous mappings, as Linux does
  MmapCheck c = check_mmap(addr, len, prot, flags);
  if (c.error) return static_cast<uint64_t>(c.error);
  len = c.len;
  uint64_t va;
  if (c.fixed) {
    unmap_user_pages(p, addr, len);
    va = addr;
  } else {
    if (p.mmap_next + len + kPage > kUserEnd - (8ull << 30)) return err(kENOMEM);  // never into the stack's region
    va = p.mmap_next;
    p.mmap_next += len + kPage;  // a guard page between mappings
  }
  if (prot != 0 && !map_user_pages(p, va, len, static_cast<uint8_t>(prot))) {
    unmap_user_pages(p, va, len);  // nothing half-mapped stays behind (the quota, or the pool, ran out)
    return err(kENOMEM);
  }
  for (Vma& v : p.vmas)
    if (!v.used) {
      v = Vma{va, va + len, static_cast<uint8_t>(prot), true};
      break;
    }
  return va;
}

uint64_t sys_mprotect(Process& p, uint64_t addr, uint64_t len, uint64_t prot) {
  Range r;
  if (int64_t e = check_mprotect(addr, len, prot, r)) return static_cast<uint64_t>(e);
  len = r.len;
  if (prot == 0) {
    unmap_user_pages(p, addr, len);  // PROT_NONE: nothing is readable; reserving is enough
    return 0;
  }
  using ept::Perm;
  Perm perm = Perm::read | Perm::user;
  if (prot & kProtWrite) perm = perm | Perm::write;
  if (prot & kProtExec) perm = perm | Perm::exec;
  for (uint64_t a = addr; a < addr + len; a += kPage) {
    if (!page_table(p).lookup(a).present) {
      if (!map_user_pages(p, a, kPage, static_cast<uint8_t>(prot))) return err(kENOMEM);
    } else if (!page_table(p).protect(a, kPage, perm).ok()) {
      return err(kEACCES);
    }
  }
  cpu::write_cr3(cpu::read_cr3());
  return 0;
}

uint64_t sys_getrandom(Process& p, uint64_t buf, uint64_t n) {
  uint8_t chunk[64];
  uint64_t done = 0;
  if (!cpu::has_rdrand()) return err(kENOSYS);  // no entropy source the VMM trusts
  while (done < n) {
    uint64_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
    for (uint64_t i = 0; i < k; i += 8) {
      uint64_t r = 0;
      if (!cpu::rdrand64(r, 100)) return done ? done : err(kEAGAIN);
      for (uint64_t b = 0; b < 8 && i + b < k; ++b) chunk[i + b] = static_cast<uint8_t>(r >> (8 * b));
    }
    if (!copy_to_user(p, buf + done, chunk, k)) return done ? done : err(kEFAULT);
    done += k;
  }
  return n;
}

uint64_t sys_clock_gettime(Process& p, uint64_t ts) {
  uint64_t hz = drivers::tsc::hz() ? drivers::tsc::hz() : 1000000000ull;
  uint64_t t = cpu::rdtsc();
  uint64_t v[2] = {t / hz, (t % hz) * 1000000000ull / hz};
  return copy_to_user(p, ts, v, sizeof v) ? 0 : err(kEFAULT);
}

// newfstatat(fd, "", buf, AT_EMPTY_PATH) on fd 0-2, as glibc's stdio asks
// before its first write: a character device (S_IFCHR | 0620), so the
// stream is unbuffered/line-buffered and nothing else is assumed. Any
// path, or another fd: there is no file system (ENOENT / EBADF).
constexpr uint64_t kAtEmptyPath = 0x1000;
constexpr uint32_t kSIfChr = 0020000, kCharDevMode = kSIfChr | 0620;
constexpr size_t kStatSize = 144;                 // struct stat on x86-64
constexpr size_t kStatModeOffset = 24, kStatBlksizeOffset = 56;
uint64_t sys_newfstatat(Process& p, uint64_t fd, uint64_t path, uint64_t buf, uint64_t flags) {
  char first = 1;
  if (!copy_from_user(p, path, &first, 1)) return err(kEFAULT);
  if (first != 0 || !(flags & kAtEmptyPath)) return err(kENOENT);
  if (fd > 2) return err(kEBADF);
  uint8_t st[kStatSize] = {};
  const uint32_t mode = kCharDevMode;
  const uint64_t blksize = 1024;
  __builtin_memcpy(st + kStatModeOffset, &mode, sizeof mode);
  __builtin_memcpy(st + kStatBlksizeOffset, &blksize, sizeof blksize);
  return copy_to_user(p, buf, st, sizeof st) ? 0 : err(kEFAULT);
}

uint64_t sys_prlimit(Process& p, uint64_t resource, uint64_t old) {
  if (!old) return 0;
  uint64_t v[2] = {resource == kRlimitStack ? kStackLimit : kRlimInfinity, kRlimInfinity};
  return copy_to_user(p, old, v, sizeof v) ? 0 : err(kEFAULT);
}
}  // namespace

// 0: return to the process; 1: leave to the VMM (blocked or ended).
// `regs`: what syscall_entry pushed on the kernel stack; SYSCALL put the
// return RIP in RCX and RFLAGS in R11 (SDM 3A §5.8.8).
extern "C" int partition_syscall(const arch::Gprs* regs, uint64_t user_rsp) {
  Process& p = *g_current[this_cpu_index()];
  UserContext* ctx = &p.ctx;
  ctx->regs = *regs;
  ctx->rip = regs->rcx;
  ctx->rflags = user_rflags(regs->r11);
  ctx->rsp = user_rsp;
  ++p.syscalls;
  uint64_t a0 = ctx->regs.rdi, a1 = ctx->regs.rsi, a2 = ctx->regs.rdx, a3 = ctx->regs.r10, a4 = ctx->regs.r8;
  uint64_t r = 0;
  switch (handler_for(ctx->regs.rax)) {
    case Handler::read:
      if (a0 != 0) { r = err(kEBADF); break; }
      if (!try_read(p, a1, a2, r)) {
        p.read_buf = a1;
        p.read_len = a2;
        p.state = ProcessState::Blocked;
        return 1;
      }
      break;
    case Handler::write: r = sys_write(p, a0, a1, a2); break;
    case Handler::writev: {
      uint64_t total = 0;
      for (uint64_t i = 0; i < a2 && i < 16; ++i) {
        uint64_t iov[2];
        if (!copy_from_user(p, a1 + i * 16, iov, 16)) { total = err(kEFAULT); break; }
        uint64_t w = sys_write(p, a0, iov[0], iov[1]);
        if (static_cast<int64_t>(w) < 0) { total = w; break; }
        total += w;
      }
      r = total;
      break;
    }
    case Handler::close: r = a0 <= 2 ? 0 : err(kEBADF); break;
    case Handler::brk: r = sys_brk(p, a0); break;
    case Handler::mmap: r = sys_mmap(p, a0, a1, a2, a3, a4); break;
    case Handler::munmap: {
      Range range;
      if (int64_t e = check_munmap(a0, a1, range)) { r = static_cast<uint64_t>(e); break; }
      unmap_user_pages(p, range.start, range.len);
      r = 0;
      break;
    }
    case Handler::mprotect: r = sys_mprotect(p, a0, a1, a2); break;
    case Handler::mremap: r = err(kENOMEM); break;  // glibc falls back to malloc + copy
    case Handler::madvise: r = 0; break;
    case Handler::getpid: case Handler::gettid: r = 1; break;
    case Handler::arch_prctl:
      if (a0 == kArchSetFs) {
        if (!fs_base_allowed(a1)) { r = err(kEPERM); break; }
        ctx->fs_base = a1;
        cpu::wrmsr(cpu::msr::kFsBase, a1);
        r = 0;
      } else if (a0 == kArchGetFs) {
        r = copy_to_user(p, a1, &ctx->fs_base, 8) ? 0 : err(kEFAULT);
      } else {
        r = err(kEINVAL);
      }
      break;
    case Handler::set_tid_address: r = 1; break;
    case Handler::set_robust_list: r = 0; break;
    case Handler::rseq: r = err(kENOSYS); break;
    case Handler::prlimit64: r = sys_prlimit(p, a1, a3); break;
    case Handler::readlink: r = err(kENOENT); break;  // no file system in the partition
    case Handler::futex:
      // One thread: a wake finds nobody, a wait would wait forever.
      r = (a1 & kFutexCmdMask) == kFutexWake ? 0 : (a1 & kFutexCmdMask) == kFutexWait ? err(kEAGAIN) : err(kENOSYS);
      break;
    case Handler::clock_gettime: r = sys_clock_gettime(p, a1); break;
    case Handler::time: {
      uint64_t hz = drivers::tsc::hz() ? drivers::tsc::hz() : 1;
      uint64_t secs = cpu::rdtsc() / hz;  // seconds since the VMM started: no wall clock yet
      r = (a0 == 0 || copy_to_user(p, a0, &secs, 8)) ? secs : err(kEFAULT);
      break;
    }
    case Handler::getrandom: r = sys_getrandom(p, a0, a1); break;
    case Handler::newfstatat: r = sys_newfstatat(p, a0, a1, a2, a3); break;
    case Handler::lseek: r = a0 <= 2 ? err(kESPIPE) : err(kEBADF); break;  // pipes and the console do not seek
    case Handler::exit:
    case Handler::exit_group:
      p.exit_status = static_cast<int>(a0);
      p.state = ProcessState::Exited;
      return 1;
    case Handler::unknown:
    case Handler::count_:
      LOG_WARN("vtpm %s: system call %lu is not served in the partition: -ENOSYS", p.name, ctx->regs.rax);
      r = err(kENOSYS);
      break;
  }
  if (p.syscalls <= kTracedSyscalls)
    LOG_DEBUG("vtpm %s: syscall %lu(0x%lx, 0x%lx, 0x%lx) = 0x%lx", p.name, ctx->regs.rax, a0, a1, a2, r);
  ctx->regs.rax = r;
  return 0;
}

// A CPU exception in ring 3 (called by the exception handler, VMM stack).
// The entry stub already loaded the VMM's CR3 and GS (vmm/arch/entry.S).
extern "C" [[noreturn]] void partition_user_fault(uint64_t vector, uint64_t error, uint64_t rip, uint64_t cr2) {
  Process& p = *g_current[this_cpu_index()];
  p.state = ProcessState::Faulted;
  lib::snformat(p.fault, sizeof p.fault, "CPU exception %lu (error 0x%lx) at rip 0x%lx, cr2 0x%lx: process stopped",
                vector, error, rip, cr2);
  partition_leave_fault();
}

namespace {
// The CPU budget (issue 9 finding 4): while a process with a deadline runs,
// the LAPIC timer interrupts ring 3 every kBudgetTicks and the handler
// compares the TSC with the deadline. The TPR is raised to class 14 so that
// only the timer (0xF0) and the spurious vector reach ring 3 (SDM 3A
// §10.8.3.1), and LINT0 (ExtINT from an 8259) is masked meanwhile.
constexpr uint32_t kBudgetTicks = 1u << 20;
constexpr uint64_t kTprProcess = 14;

uint64_t read_cr8() {
  uint64_t v;
  asm volatile("mov %%cr8, %0" : "=r"(v));
  return v;
}
void write_cr8(uint64_t v) { asm volatile("mov %0, %%cr8" ::"r"(v) : "memory"); }

}  // namespace

// The budget timer, from vmm/arch/exceptions.cpp (VMM CR3 and GS loaded).
extern "C" void partition_timer_interrupt(const arch::ExceptionFrame* f) {
  drivers::lapic::eoi();
  if ((f->cs & 3) != 3) return;  // a tick left pending after the process stopped: nothing to charge
  Process& p = *g_current[this_cpu_index()];
  if (p.deadline_tsc == 0 || cpu::rdtsc() < p.deadline_tsc) {
    drivers::lapic::timer_one_shot(arch::kPartitionTimerVector, kBudgetTicks);
    return;  // back to ring 3 (the stub reloads its CR3 and GS)
  }
  p.state = ProcessState::Faulted;
  p.over_budget = true;
  lib::snformat(p.fault, sizeof p.fault, "over its CPU budget of %lu ms (at rip 0x%lx): process stopped", p.budget_ms,
                f->rip);
  partition_leave_fault();
}

ProcessState run_process(Process& p) {
  PerCpu& me = this_cpu();
  unsigned cpu = me.index;
  if (p.state == ProcessState::Blocked) {
    uint64_t r;
    if (!try_read(p, p.read_buf, p.read_len, r)) return p.state;
    p.ctx.regs.rax = r;
    p.state = ProcessState::Runnable;
  }
  if (p.state != ProcessState::Runnable) return p.state;
  g_current[cpu] = &p;
  me.vmm_cr3 = cpu::read_cr3();
  uint64_t t0 = cpu::rdtsc();
  // The process's own extended state (it uses SSE/AVX freely): from the
  // init state at its first run, else its own (vmm/arch/fpu.hpp). The
  // caller has put the guest's state aside (vm::release_fpu).
  if (p.fpu_started) arch::fpu::restore(p.xsave_area);
  else arch::fpu::load_init();
  p.fpu_started = true;
  arch::fpu::set_xcr0(p.xcr0);
  const bool budget = p.deadline_tsc != 0;
  uint64_t tpr = 0;
  uint32_t lint0 = 0;
  if (budget) {
    tpr = read_cr8();
    write_cr8(kTprProcess);
    lint0 = drivers::lapic::mask_lint0();
    drivers::lapic::timer_one_shot(arch::kPartitionTimerVector, kBudgetTicks);
  }
  while (p.state == ProcessState::Runnable) {
    cpu::wrmsr(cpu::msr::kFsBase, p.ctx.fs_base);
    LeaveReason why = partition_enter(&p.ctx);
    if (why == LeaveReason::Fault) break;
    // A system call left to the VMM: blocked or exited (state set).
  }
  if (budget) {
    drivers::lapic::timer_stop();
    drivers::lapic::restore_lint0(lint0);
    write_cr8(tpr);
  }
  // Kept for its next run, then wiped: whatever runs next on this CPU (a
  // guest restoring its own state, or anything else) finds none of the
  // engine's registers (its AES round keys, seeds).
  arch::fpu::save(p.xsave_area);
  arch::fpu::load_init();
  p.run_tsc += cpu::rdtsc() - t0;
  g_current[cpu] = nullptr;
  if (p.state == ProcessState::Faulted) LOG_ERROR("vtpm %s: %s", p.name, p.fault);
  if (p.state == ProcessState::Exited) LOG_WARN("vtpm %s: exited with status %d", p.name, p.exit_status);
  return p.state;
}

}  // namespace mamori::partition
