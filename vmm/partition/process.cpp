#include "process.hpp"
#include <new>
#include "ept/ept.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/arch/fpu.hpp"
#include "vmm/arch/descriptors.hpp"
#include "vmm/core/elf64.hpp"
#include "vmm/log.hpp"
#include "vmm/mem/address_space.hpp"
#include "vmm/mem/engine_frames.hpp"
#include "vmm/mem/frames.hpp"
#include "vmm/partition/user_memory.hpp"
#include "vmm/percpu.hpp"

extern "C" void syscall_entry();

namespace mamori::partition {
namespace {
// User address-space layout (below the canonical hole).
constexpr uint64_t kUserMin = kMinUserAddress;
constexpr uint64_t kUserMax = 0x00007F0000000000ull;   // images and brk below this
constexpr uint64_t kMmapBase = 0x00007F0000000000ull;  // anonymous mappings grow up from here
constexpr uint64_t kStackTop = 0x00007FFFFFFFF000ull;
constexpr uint64_t kStackBytes = 512 * 1024;
constexpr uint64_t kBrkMaxBytes = 256ull << 20;
constexpr uint64_t kMaxImageBytes = 64ull << 20;
constexpr uint64_t kPage = 4096;

// Auxiliary vector keys (Linux include/uapi/linux/auxvec.h, elf.h).
enum AuxKey : uint64_t {
  AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12,
  AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25,
  AT_EXECFN = 31,
};

// SYSCALL set-up (SDM 3A §5.8.8, Vol. 4 MSRs).
constexpr uint32_t kMsrStar = 0xC0000081, kMsrLstar = 0xC0000082, kMsrFmask = 0xC0000084;
constexpr uint64_t kEferSce = 1;
// Flags cleared on SYSCALL: TF, IF, DF, IOPL, NT, AC (what Linux masks).
constexpr uint64_t kSyscallMask = 0x47700;
// IF set: the budget timer must reach ring 3 (the TPR lets only it and the
// spurious vector through; runner.cpp); IOPL 0 keeps the process from CLI.
constexpr uint64_t kUserRflags = 0x202;

constexpr unsigned kKernelStackBytes = 16384;
// In the entry area (vmm/link.ld): mapped in every process's tables.
[[gnu::section(".bss.entry_area")]] alignas(16) uint8_t g_kernel_stacks[kMaxCpus][kKernelStackBytes];

mem::EngineFrames g_frames;

constexpr unsigned kMaxProcesses = 16;
alignas(ept::HostPageTable) uint8_t g_tables[kMaxProcesses][sizeof(ept::HostPageTable)];
unsigned g_table_count;

uint64_t page_down(uint64_t a) { return a & ~(kPage - 1); }
uint64_t page_up(uint64_t a) { return (a + kPage - 1) & ~(kPage - 1); }

bool push_bytes(Process& p, uint64_t& sp, const void* data, size_t n) {
  sp -= n;
  return copy_to_user(p, sp, data, n);
}
bool push_u64(Process& p, uint64_t& sp, uint64_t v) { return push_bytes(p, sp, &v, 8); }

// AT_RANDOM bytes (glibc's stack-protector and pointer-guard seeds): RDRAND,
// else a TSC-derived value (no better source before the process runs).
bool random_bytes(uint8_t* out, size_t n) {
  bool rdrand = cpu::has_rdrand();
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = cpu::rdtsc() * 0x9E3779B97F4A7C15ull;
    if (rdrand) cpu::rdrand64(r, 10);
    for (size_t b = 0; b < 8 && i + b < n; ++b) out[i + b] = static_cast<uint8_t>(r >> (8 * b));
  }
  return rdrand;
}
}  // namespace

ept::HostPageTable& page_table(Process& p) { return *static_cast<ept::HostPageTable*>(p.page_table); }

bool map_user_pages(Process& p, uint64_t va, uint64_t len, uint8_t prot) {
  using ept::Perm;
  Perm perm = Perm::read | Perm::user;
  if (prot & kProtWrite) perm = perm | Perm::write;
  if (prot & kProtExec) perm = perm | Perm::exec;
  for (uint64_t a = page_down(va); a < page_up(va + len); a += kPage) {
    if (page_table(p).lookup(a).present) continue;  // already backed
    // The quota counts the tables too: sparse mappings cost up to three
    // table frames per page.
    if (p.frames + page_table(p).table_pages() + 1 > p.frame_limit) {
      if (!p.quota_reported)
        LOG_WARN("vtpm %s: memory quota of %lu KiB reached (%lu pages, %lu table pages): -ENOMEM", p.name,
                 p.frame_limit * (kPage / 1024), p.frames, page_table(p).table_pages());
      p.quota_reported = true;
      return false;
    }
    uint64_t f = mem::alloc_frame();
    if (!f) return false;
    ept::Result r = page_table(p).map(a, f, kPage, {perm, ept::MemType::wb});
    if (!r.ok()) {
      mem::free_frame(f);
      return false;
    }
    ++p.frames;
  }
  return true;
}

void unmap_user_pages(Process& p, uint64_t va, uint64_t len) {
  for (uint64_t a = page_down(va); a < page_up(va + len); a += kPage) {
    ept::Translation t = page_table(p).lookup(a);
    if (!t.present) continue;
    (void)page_table(p).unmap(a, kPage);
    mem::free_frame(t.phys & ~(kPage - 1));
    --p.frames;
  }
  cpu::write_cr3(cpu::read_cr3());  // the VMM's tables are current; the process's TLB entries die at its next load
}

// create_process runs on whichever CPU starts or restarts an engine: its
// shared validation buffer and table slots are taken under this lock.
bool g_create_lock;

struct CreateLock {
  CreateLock() { while (__atomic_exchange_n(&g_create_lock, true, __ATOMIC_ACQUIRE)) cpu::pause(); }
  ~CreateLock() { __atomic_store_n(&g_create_lock, false, __ATOMIC_RELEASE); }
};

uint64_t destroy_process(Process& p) {
  if (!p.page_table || !page_table(p).initialized()) return 0;
  ept::HostPageTable& t = page_table(p);
  uint64_t freed = t.table_pages();
  // Every user leaf's frames (the VMM's entry mappings are supervisor and
  // not the process's to free).
  (void)t.for_each_leaf(kUserMin, kStackTop - kUserMin, [&freed](const ept::Leaf& l) {
    if (!ept::has(l.attr.perm, ept::Perm::user)) return;
    for (uint64_t off = 0; off < l.size; off += kPage) {
      mem::free_frame(l.phys + off);
      ++freed;
    }
  });
  t.destroy();
  if (p.xsave_area) mem::free_frame(p.xsave_area);
  p.xsave_area = 0;
  p.frames = 0;
  p.state = ProcessState::Empty;
  return freed;
}

bool create_process(Process& p, const char* name, const uint8_t* image, size_t size, uint64_t memory_limit,
                    const char* env) {
  CreateLock lock;
  void* slot = p.page_table;  // a restarted process reuses its table slot (destroy_process freed the tables)
  p = Process{};
  p.frame_limit = memory_limit / kPage;
  size_t i = 0;
  for (; name[i] && i + 1 < sizeof p.name; ++i) p.name[i] = name[i];
  p.name[i] = 0;
  core::ElfPolicy policy;
  policy.refuse_wx = true;
  policy.check_physical_overlap = false;
  policy.min_vaddr = kUserMin;
  policy.max_vaddr = kUserMax;
  policy.max_total_memsz = kMaxImageBytes;
  static core::ElfImage img;  // under CreateLock
  core::ElfError e = core::elf64_validate(image, size, policy, img);
  if (e != core::ElfError::None) {
    LOG_ERROR("partition %s: image refused: %s", p.name, core::describe(e));
    return false;
  }
  if (!slot && g_table_count == kMaxProcesses) {
    LOG_ERROR("partition %s: more than %u processes", p.name, kMaxProcesses);
    return false;
  }
  ept::Options opt;
  opt.page_2m = true;
  opt.enforce_wx = true;
  auto* t = new (slot ? slot : g_tables[g_table_count++]) ept::HostPageTable(g_frames, opt);
  p.page_table = t;
  if (t->init() != ept::Status::ok || !mem::map_partition_entry(*t)) {
    LOG_ERROR("partition %s: out of memory for its page tables", p.name);
    return false;
  }
  uint64_t top = 0;
  for (size_t s = 0; s < img.segment_count; ++s) {
    const core::ElfSegment& seg = img.segments[s];
    uint8_t prot = kProtRead | ((seg.flags & core::kElfPfW) ? kProtWrite : 0) | ((seg.flags & core::kElfPfX) ? kProtExec : 0);
    if (!map_user_pages(p, seg.vaddr, seg.memsz, prot)) {
      LOG_ERROR("partition %s: out of memory loading its image", p.name);
      return false;
    }
    if (!poke_user(p, seg.vaddr, image + seg.offset, seg.filesz)) {
      LOG_ERROR("partition %s: segment at 0x%lx overlaps another with other rights", p.name, seg.vaddr);
      return false;
    }
    if (seg.vaddr + seg.memsz > top) top = seg.vaddr + seg.memsz;
  }
  p.brk_start = p.brk = page_up(top);
  p.brk_limit = p.brk_start + kBrkMaxBytes;
  p.mmap_next = kMmapBase;
  if (!map_user_pages(p, kStackTop - kStackBytes, kStackBytes, kProtRead | kProtWrite)) {
    LOG_ERROR("partition %s: out of memory for its stack", p.name);
    return false;
  }
  // Initial stack (System V AMD64 psABI §3.4.1): argc, argv, envp, auxv.
  uint64_t sp = kStackTop;
  uint8_t rnd[16];
  random_bytes(rnd, sizeof rnd);
  bool ok = push_bytes(p, sp, rnd, sizeof rnd);
  uint64_t at_random = sp;
  ok = ok && push_bytes(p, sp, "x86_64", 7);
  uint64_t at_platform = sp;
  ok = ok && push_bytes(p, sp, p.name, i + 1);
  uint64_t argv0 = sp;
  uint64_t env0 = 0;  // envp[0] (config vtpm_env), if any
  if (env && env[0]) {
    size_t n = 0;
    while (env[n]) ++n;
    ok = ok && push_bytes(p, sp, env, n + 1);
    env0 = sp;
  }
  sp &= ~15ull;
  // Program headers: inside the first PT_LOAD that covers file offset e_phoff.
  constexpr uint64_t kPhdrEntrySize = 56;  // ELF-64 (the validator insists on it)
  const uint64_t phoff = img.phoff;
  uint64_t phdr = 0;
  for (size_t s = 0; s < img.segment_count; ++s)
    if (phoff >= img.segments[s].offset && phoff < img.segments[s].offset + img.segments[s].filesz)
      phdr = img.segments[s].vaddr + (phoff - img.segments[s].offset);
  const uint64_t aux[][2] = {
      {AT_PHDR, phdr},       {AT_PHENT, kPhdrEntrySize}, {AT_PHNUM, img.phnum},        {AT_PAGESZ, kPage},
      {AT_ENTRY, img.entry}, {AT_UID, 0},            {AT_EUID, 0},             {AT_GID, 0},
      {AT_EGID, 0},          {AT_SECURE, 0},         {AT_CLKTCK, 100},         {AT_HWCAP, cpu::cpuid(1).edx},
      {AT_RANDOM, at_random}, {AT_PLATFORM, at_platform}, {AT_EXECFN, argv0}, {AT_NULL, 0},
  };
  constexpr size_t kAux = sizeof aux / sizeof aux[0];
  // argc + argv[0] + NULL + envp NULL + auxv: keep RSP 16-byte aligned at entry.
  const size_t words = kAux * 2 + 4 + (env0 ? 1 : 0);
  if ((words & 1) != 0) ok = ok && push_u64(p, sp, 0);
  for (size_t a = kAux; a-- > 0;) {
    ok = ok && push_u64(p, sp, aux[a][1]);
    ok = ok && push_u64(p, sp, aux[a][0]);
  }
  ok = ok && push_u64(p, sp, 0);      // envp terminator
  if (env0) ok = ok && push_u64(p, sp, env0);
  ok = ok && push_u64(p, sp, 0);      // argv terminator
  ok = ok && push_u64(p, sp, argv0);  // argv[0]
  ok = ok && push_u64(p, sp, 1);      // argc
  if (!ok) {
    LOG_ERROR("partition %s: cannot build its initial stack", p.name);
    return false;
  }
  p.xsave_area = mem::alloc_frames(arch::fpu::area_frames(), 1);  // every managed component (vmm/arch/fpu.hpp)
  if (!p.xsave_area) return false;
  p.ctx.rip = img.entry;
  p.ctx.rsp = sp;
  p.ctx.rflags = kUserRflags;
  p.ctx.cr3 = t->root_phys();
  p.xcr0 = 3;  // x87 | SSE; glibc's start-up raises it through XGETBV checks only
  p.state = ProcessState::Runnable;
  LOG_INFO("partition %s: loaded, entry 0x%lx, %lu pages, brk at 0x%lx", p.name, img.entry, p.frames, p.brk);
  return true;
}

bool give_input(Process& p, const uint8_t* data, size_t len) {
  if (p.input_pos == p.input_len) p.input_pos = p.input_len = 0;
  if (len > kInputCap - p.input_len) return false;
  for (size_t i = 0; i < len; ++i) p.input[p.input_len + i] = data[i];
  p.input_len += len;
  return true;
}

size_t take_output(Process& p, uint8_t* out, size_t cap) {
  size_t n = p.output_len < cap ? p.output_len : cap;
  for (size_t i = 0; i < n; ++i) out[i] = p.output[i];
  for (size_t i = n; i < p.output_len; ++i) p.output[i - n] = p.output[i];
  p.output_len -= n;
  return n;
}

void init_partition_cpu(unsigned cpu) {
  uint64_t top = reinterpret_cast<uint64_t>(&g_kernel_stacks[cpu][kKernelStackBytes]);
  PerCpu& me = this_cpu();
  me.kernel_stack = top;
  me.vmm_cr3 = cpu::read_cr3();  // the paranoid entry (NMI, #MC) relies on it from now on
  arch::set_kernel_stack(cpu, top);
  cpu::wrmsr(kMsrStar, (static_cast<uint64_t>(arch::kUserBase) << 48) | (static_cast<uint64_t>(arch::kKernelCs) << 32));
  cpu::wrmsr(kMsrLstar, reinterpret_cast<uint64_t>(&syscall_entry));
  cpu::wrmsr(kMsrFmask, kSyscallMask);
  cpu::wrmsr(cpu::msr::kEfer, cpu::rdmsr(cpu::msr::kEfer) | kEferSce);
  // Processes keep their own extended state (XSAVE where the CPU has it).
  constexpr uint32_t kCpuid1EcxXsave = 1u << 26;
  constexpr uint64_t kCr4Osxsave = 1ull << 18;
  if (cpu::cpuid(1).ecx & kCpuid1EcxXsave) cpu::write_cr4(cpu::read_cr4() | kCr4Osxsave);
}

}  // namespace mamori::partition
