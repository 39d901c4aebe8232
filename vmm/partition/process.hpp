// A service-partition process: an unmodified static Linux x86-64 program
// (vtpm-service, one per VM) in ring 3 with page tables of its own, run by
// the VMM on demand and served a small set of Linux system calls
// (docs/partition.md; the set: vtpm/service/partition/syscall_allowlist.hpp).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "vmm/partition/syscall_check.hpp"
#include "vmm/partition/user_context.hpp"

namespace mamori::partition {

inline constexpr size_t kInputCap = 8192;    // bytes the process has not read yet (fd 0)
inline constexpr size_t kOutputCap = 65536;  // bytes it wrote to fd 1 not yet taken
inline constexpr size_t kLogLineCap = 200;
inline constexpr unsigned kMaxVmas = 64;
using syscall::kMinUserAddress;  // lowest user address ever mapped (vmm/partition/syscall_check.hpp)

enum class ProcessState : uint8_t {
  Empty,
  Runnable,   // ready to run (started, or a read was satisfied)
  Blocked,    // waiting in read(0) for input
  Exited,     // exit_group / exit
  Faulted,    // a CPU exception in ring 3, or a refused system call
};

struct Vma {
  uint64_t start = 0, end = 0;  // page aligned, [start, end)
  uint8_t prot = 0;             // PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4
  bool used = false;
};

struct Process {
  ProcessState state = ProcessState::Empty;
  char name[32] = {};
  UserContext ctx = {};
  void* page_table = nullptr;   // ept::HostPageTable (vmm/partition/process.cpp)
  uint64_t xsave_area = 0;      // physical: its FPU/SSE/AVX state
  uint64_t xcr0 = 0;
  bool fpu_started = false;

  uint64_t brk_start = 0, brk = 0, brk_limit = 0;
  uint64_t mmap_next = 0;
  Vma vmas[kMaxVmas];
  uint64_t frames = 0;          // user frames mapped
  uint64_t frame_limit = 0;     // quota: user frames + page-table frames (vtpm_memory, docs/config.md)
  bool quota_reported = false;

  // fd 0 / fd 1 / fd 2
  uint8_t input[kInputCap];
  size_t input_len = 0, input_pos = 0;
  uint8_t output[kOutputCap];
  size_t output_len = 0;
  char log_line[kLogLineCap + 1] = {};
  size_t log_len = 0;

  // the pending read(0, buf, n) while Blocked
  uint64_t read_buf = 0, read_len = 0;

  // CPU budget of the current exchange (vmm/partition/vtpm_engine.cpp):
  // the LAPIC timer preempts ring 3 and the process is stopped past it.
  uint64_t deadline_tsc = 0;    // 0: no budget
  uint64_t budget_ms = 0;       // for the report
  bool over_budget = false;

  int exit_status = -1;
  uint64_t syscalls = 0;
  uint64_t run_tsc = 0;
  char fault[160] = {};
};

// Loads the static ELF `image` into a new address space and prepares the
// initial stack (argv[0] = name, envp empty, auxv). False with a log line.
// `memory_limit`: bytes of frames (its own and its page tables') it may hold.
// `env`: one NAME=VALUE string for its environment (null or "": none).
bool create_process(Process& p, const char* name, const uint8_t* image, size_t size, uint64_t memory_limit,
                    const char* env = nullptr);

// Frees everything the process holds (its frames, page tables and XSAVE
// area); its page-table slot is kept for the next create_process on `p`.
// Returns the frames given back (pages and tables).
uint64_t destroy_process(Process& p);

// Feeds `len` bytes to fd 0.
bool give_input(Process& p, const uint8_t* data, size_t len);

// Runs the process until it blocks in read(0) with nothing left to read,
// exits, faults, or (with a deadline_tsc) runs past its budget (Faulted,
// over_budget). Called on the CPU that needs the answer, with the
// caller's FPU state saved by the caller. Returns the new state.
ProcessState run_process(Process& p);

// Takes up to `cap` bytes of what it wrote to fd 1.
size_t take_output(Process& p, uint8_t* out, size_t cap);

// Installs SYSCALL/SYSRET MSRs and this CPU's kernel stack for ring 3.
void init_partition_cpu(unsigned cpu_index);

}  // namespace mamori::partition
