// Runtime of the test guests (see rt.hpp).
#include "rt.hpp"

#include <stdarg.h>

extern "C" const uint32_t guest_isr_table[];  // entry.S: the 256 stubs (exceptions, then interrupts)

namespace guest {
namespace {

constexpr uint16_t kKernelCs = 0x08;          // entry.S GDT entry 1
constexpr uint8_t kGateInterrupt32 = 0x8E;    // present, DPL0, 32-bit interrupt gate
constexpr uint32_t kOneMiB = 1u << 20;
constexpr uint32_t kKiB = 1024;
// Exit status when an exception nobody expected arrives: high bit set, vector below.
constexpr uint32_t kStatusUnexpectedException = 0x80;
// Beyond this a number is printed in hex in FAIL lines (addresses, masks).
constexpr uint64_t kPrintDecimalBelow = 0x10000;

bool g_mamori = false;
const multiboot::Info* g_info = nullptr;
uint32_t g_passed = 0, g_failed = 0, g_skipped = 0;
bool g_reported = false;

struct __attribute__((packed)) IdtGate {
  uint16_t offset_low, selector;
  uint8_t zero, type;
  uint16_t offset_high;
};
struct __attribute__((packed)) DescriptorPointer {
  uint16_t limit;
  uint32_t base;
};
IdtGate g_idt[kIdtVectors];
InterruptHook g_interrupt_hook = nullptr;

// One-shot fault expectation (expect_fault / take_fault).
volatile bool g_armed = false;
volatile uint8_t g_expected_vector = 0, g_skip = 0;
volatile FaultRecord g_fault = {};

// ---- formatting ----------------------------------------------------------

// 64-bit value divided by a 32-bit one without libgcc's __udivdi3 (not
// available for -m32 here): two DIVs, the first remainder < divisor so the
// second cannot overflow (SDM Vol. 2A, DIV).
uint64_t divmod(uint64_t n, uint32_t d, uint32_t& rem) {
  uint32_t hi = static_cast<uint32_t>(n >> 32), lo = static_cast<uint32_t>(n);
  uint32_t qhi = hi / d, r = hi % d, qlo;
  asm("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
  rem = r;
  return (static_cast<uint64_t>(qhi) << 32) | qlo;
}

struct Sink {
  char* buf;       // nullptr: UART
  size_t cap, len;
  void put(char c) {
    if (buf == nullptr) { putc(c); ++len; return; }
    if (len + 1 < cap) buf[len] = c;
    ++len;
  }
};

void emit_number(Sink& s, uint64_t v, uint32_t base, bool upper, int width, char pad, bool neg) {
  char digits[24];
  int n = 0;
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    uint32_t r;
    v = divmod(v, base, r);
    digits[n++] = set[r];
  } while (v != 0);
  if (neg) digits[n++] = '-';
  for (int i = n; i < width; ++i) s.put(pad);
  while (n > 0) s.put(digits[--n]);
}

void vformat(Sink& s, const char* fmt, va_list ap) {
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') { s.put(*p); continue; }
    ++p;
    char pad = ' ';
    if (*p == '0') { pad = '0'; ++p; }
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l') { ++longs; ++p; }
    switch (*p) {
      case 's': {
        const char* str = va_arg(ap, const char*);
        if (str == nullptr) str = "(null)";
        int len = 0;
        while (str[len]) ++len;
        for (int i = len; i < width; ++i) s.put(' ');
        for (int i = 0; i < len; ++i) s.put(str[i]);
        break;
      }
      case 'c': s.put(static_cast<char>(va_arg(ap, int))); break;
      case 'd': {
        int64_t v = longs >= 2 ? va_arg(ap, long long) : va_arg(ap, int);
        uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        emit_number(s, mag, 10, false, width, pad, v < 0);
        break;
      }
      case 'u': case 'x': case 'X': {
        uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
        emit_number(s, v, *p == 'u' ? 10 : 16, *p == 'X', width, pad, false);
        break;
      }
      case '%': s.put('%'); break;
      case '\0': return;
      default: s.put('%'); s.put(*p); break;
    }
  }
}

// ---- command line ----------------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Parses a decimal or 0x-hex number in [p, end); false if anything else.
bool parse_number(const char* p, const char* end, uint32_t& out) {
  uint32_t v = 0, base = 10;
  if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) { base = 16; p += 2; }
  if (p == end) return false;
  for (; p < end; ++p) {
    uint32_t d;
    if (*p >= '0' && *p <= '9') d = static_cast<uint32_t>(*p - '0');
    else if (base == 16 && *p >= 'a' && *p <= 'f') d = static_cast<uint32_t>(*p - 'a' + 10);
    else if (base == 16 && *p >= 'A' && *p <= 'F') d = static_cast<uint32_t>(*p - 'A' + 10);
    else return false;
    v = v * base + d;
  }
  out = v;
  return true;
}

bool starts_with(const char* p, const char* end, const char* key, size_t keylen) {
  if (static_cast<size_t>(end - p) < keylen) return false;
  for (size_t i = 0; i < keylen; ++i)
    if (p[i] != key[i]) return false;
  return true;
}

void install_idt() {
  for (uint32_t v = 0; v < kIdtVectors; ++v) {
    const uint32_t handler = guest_isr_table[v];
    g_idt[v] = IdtGate{static_cast<uint16_t>(handler), kKernelCs, 0, kGateInterrupt32,
                       static_cast<uint16_t>(handler >> 16)};
  }
  const DescriptorPointer idtr{sizeof(g_idt) - 1, reinterpret_cast<uint32_t>(&g_idt[0])};
  asm volatile("lidt %0" ::"m"(idtr) : "memory");
}

void print_value(Sink& s, uint64_t v) {
  if (v < kPrintDecimalBelow) emit_number(s, v, 10, false, 0, ' ', false);
  else { s.put('0'); s.put('x'); emit_number(s, v, 16, false, 0, ' ', false); }
}

}  // namespace

uint64_t udiv64(uint64_t n, uint32_t d) {
  uint32_t rem;
  return divmod(n, d, rem);
}

uint32_t signature_word(uint32_t i) {
  const char* p = kSignature + 4 * i;
  return static_cast<uint32_t>(static_cast<uint8_t>(p[0])) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 8) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[3])) << 24);
}

// ---- output ------------------------------------------------------------------

bool mamori_present() { return g_mamori; }   // false only with bare=1

void putc(char c) {
  // A real 16550 (QEMU) needs THR empty before the next byte; mamori's LSR
  // always says so (docs/guest-abi.md), so this loop runs once there.
  while ((inb(kUartLsr) & kLsrThre) == 0) {}
  outb(kUartThr, static_cast<uint8_t>(c));
}

void puts(const char* s) {
  while (*s) putc(*s++);
}

void print(const char* fmt, ...) {
  Sink s{nullptr, 0, 0};
  va_list ap;
  va_start(ap, fmt);
  vformat(s, fmt, ap);
  va_end(ap);
}

size_t format(char* buf, size_t cap, const char* fmt, ...) {
  Sink s{buf, cap, 0};
  va_list ap;
  va_start(ap, fmt);
  vformat(s, fmt, ap);
  va_end(ap);
  if (cap > 0) buf[s.len < cap ? s.len : cap - 1] = '\0';
  return s.len < cap ? s.len : (cap > 0 ? cap - 1 : 0);
}

uint32_t console_write(const void* data, uint32_t len) {
  if (g_mamori) {
    // A write may be short (at most 32 lines a call, docs/guest-abi.md): go on from where it stopped.
    uint32_t done = 0;
    while (done < len) {
      const uint32_t n = vmcall(kHcConsoleWrite, reinterpret_cast<uint32_t>(data) + done, len - done);
      if (n == kHcError) return done ? done : kHcError;
      if (n == 0) break;
      done += n;
    }
    return len == 0 ? vmcall(kHcConsoleWrite, reinterpret_cast<uint32_t>(data), 0) : done;
  }
  const char* p = static_cast<const char*>(data);
  for (uint32_t i = 0; i < len; ++i) putc(p[i]);
  return len;
}

namespace {
bool g_exiting = false;

[[noreturn]] void bare_exit(uint32_t status) {
  outb(kQemuDebugExitPort, static_cast<uint8_t>(status));
  // Not reached under QEMU; under mamori HLT with interrupts off stops the
  // guest ("halted"), the last resort when the exit hypercall failed.
  for (;;) asm volatile("cli; hlt");
}
}  // namespace

[[noreturn]] void exit(uint32_t status) {
  // A second call means the exit hypercall itself faulted (#UD: no VMM):
  // end the bare way instead of faulting forever.
  if (!g_mamori || g_exiting) bare_exit(status);
  g_exiting = true;
  vmcall(kHcExit, status);
  print("%s: ERROR exit hypercall returned\n", kProgram);
  bare_exit(status);
}

// ---- Multiboot -------------------------------------------------------------------

const multiboot::Info* boot_info() { return g_info; }

const char* cmdline() {
  if (g_info == nullptr || (g_info->flags & multiboot::kInfoCmdline) == 0 || g_info->cmdline == 0)
    return "";
  return reinterpret_cast<const char*>(g_info->cmdline);
}

void vm_name(char* out, size_t cap) {
  const char* p = cmdline();
  while (is_space(*p)) ++p;
  const char* start = p;
  while (*p && !is_space(*p)) {
    if (*p == '/' || *p == '\\') start = p + 1;  // QEMU passes the kernel path first
    ++p;
  }
  size_t n = 0;
  for (const char* q = start; q < p && n + 1 < cap; ++q) out[n++] = *q;
  if (cap > 0) out[n] = '\0';
}

uint32_t option(const char* key, uint32_t fallback) {
  size_t keylen = 0;
  while (key[keylen]) ++keylen;
  const char* p = cmdline();
  bool first = true;
  while (*p) {
    while (is_space(*p)) ++p;
    const char* w = p;
    while (*p && !is_space(*p)) ++p;
    const char* end = p;
    if (w == end) break;
    uint32_t v;
    // "key=N" anywhere on the line.
    if (starts_with(w, end, key, keylen) && w + keylen < end && w[keylen] == '=' &&
        parse_number(w + keylen + 1, end, v))
      return v;
    // "-keyN" / "_keyN" segments of the VM name (the first word).
    if (first) {
      for (const char* q = w; q < end; ++q)
        if (*q == '/' || *q == '\\') w = q + 1;   // QEMU: the kernel's path comes first
      for (const char* q = w; q < end; ++q) {
        if (*q != '-' && *q != '_') continue;
        const char* seg = q + 1;
        const char* seg_end = seg;
        while (seg_end < end && *seg_end != '-' && *seg_end != '_') ++seg_end;
        if (starts_with(seg, seg_end, key, keylen) && parse_number(seg + keylen, seg_end, v))
          return v;
      }
    }
    first = false;
  }
  return fallback;
}

uint64_t ram_end() {
  uint64_t end = 0;
  if (g_info != nullptr && (g_info->flags & multiboot::kInfoMmap) != 0) {
    uint32_t off = 0;
    while (off + sizeof(multiboot::MmapEntry) <= g_info->mmap_length) {
      const auto* e = reinterpret_cast<const multiboot::MmapEntry*>(g_info->mmap_addr + off);
      if (e->type == multiboot::kMmapAvailable && e->base + e->length > end)
        end = e->base + e->length;
      off += e->size + sizeof(e->size);
    }
  }
  if (end == 0 && g_info != nullptr && (g_info->flags & multiboot::kInfoMemory) != 0)
    end = kOneMiB + static_cast<uint64_t>(g_info->mem_upper) * kKiB;
  return end;
}

// ---- exceptions -------------------------------------------------------------------

void expect_fault(uint8_t vector, uint8_t skip) {
  g_fault.hit = false;
  g_expected_vector = vector;
  g_skip = skip;
  g_armed = true;
}

FaultRecord take_fault() {
  FaultRecord r{g_fault.hit, g_fault.vector, g_fault.error, g_fault.eip};
  g_fault.hit = false;
  g_armed = false;
  return r;
}

void load_empty_idt() {
  const DescriptorPointer idtr{0, 0};
  asm volatile("lidt %0" ::"m"(idtr) : "memory");
}

volatile uint32_t g_interrupts[kIdtVectors];

uint32_t interrupt_count(uint8_t vector) { return g_interrupts[vector]; }
void set_interrupt_hook(InterruptHook h) { g_interrupt_hook = h; }

extern "C" void guest_trap(TrapFrame* f) {
  if (f->vector >= kExceptionVectors) {  // an interrupt: counted, then the test's EOI hook
    g_interrupts[f->vector & 0xFF] = g_interrupts[f->vector & 0xFF] + 1;
    if (g_interrupt_hook) g_interrupt_hook(static_cast<uint8_t>(f->vector));
    return;
  }
  if (g_armed && f->vector == g_expected_vector) {
    g_fault.hit = true;
    g_fault.vector = f->vector;
    g_fault.error = f->error;
    g_fault.eip = f->eip;
    g_armed = false;
    f->eip += g_skip;
    return;
  }
  print("%s: FAIL unexpected exception %u (error 0x%x) at eip 0x%x\n", kProgram, f->vector,
        f->error, f->eip);
  exit(kStatusUnexpectedException | f->vector);
}

// ---- results ------------------------------------------------------------------------

void report_pass(const char* name) {
  ++g_passed;
  g_reported = true;
  print("%s: PASS %s\n", kProgram, name);
}

void report_fail(const char* name, const char* why_fmt, ...) {
  ++g_failed;
  g_reported = true;
  print("%s: FAIL %s (", kProgram, name);
  Sink s{nullptr, 0, 0};
  va_list ap;
  va_start(ap, why_fmt);
  vformat(s, why_fmt, ap);
  va_end(ap);
  puts(")\n");
}

void report_skip(const char* name, const char* why) {
  ++g_skipped;
  g_reported = true;
  print("%s: SKIP %s (%s)\n", kProgram, name, why);
}

bool check(const char* name, bool ok) {
  if (ok) report_pass(name);
  else report_fail(name, "condition false");
  return ok;
}

bool check_eq(const char* name, uint64_t got, uint64_t want) {
  if (got == want) { report_pass(name); return true; }
  ++g_failed;
  g_reported = true;
  print("%s: FAIL %s (got ", kProgram, name);
  Sink s{nullptr, 0, 0};
  print_value(s, got);
  puts(", want ");
  print_value(s, want);
  puts(")\n");
  return false;
}

uint32_t failures() { return g_failed; }

[[noreturn]] void finish() {
  print("%s: DONE %u passed, %u failed", kProgram, g_passed, g_failed);
  if (g_skipped != 0) print(", %u skipped", g_skipped);
  puts("\n");
  exit(g_failed);
}

// ---- entry ----------------------------------------------------------------------------

extern "C" [[noreturn]] void guest_start(uint32_t magic, uint32_t info) {
  if (magic == multiboot::kLoaderMagic) g_info = reinterpret_cast<const multiboot::Info*>(info);
  install_idt();
  // These guests are built for mamori, so its ABI is assumed unless the
  // command line says `bare=1` (the QEMU smoke test): a VMM whose CPUID
  // signature is wrong must fail exits' cpuid-signature check, not turn
  // the guests into their bare-metal variant.
  const CpuidResult sig = cpuid(kCpuidHvBase);
  const bool signature = sig.ebx == signature_word(0) && sig.ecx == signature_word(1) &&
                         sig.edx == signature_word(2);
  g_mamori = option("bare", 0) == 0;
  if (magic != multiboot::kLoaderMagic)
    print("%s: WARN entered with EAX 0x%x, not the Multiboot magic\n", kProgram, magic);
  if (!g_mamori)
    print("%s: bare=1: no VMM assumed, UART output only, exit through port 0x%x\n", kProgram,
          kQemuDebugExitPort);
  else if (!signature)
    print("%s: WARN CPUID 0x40000000 is %08x:%08x:%08x, not mamori's signature; "
          "using its ABI anyway (bare=1 runs without a VMM)\n",
          kProgram, sig.ebx, sig.ecx, sig.edx);
  main();
  if (g_reported) finish();
  exit(0);
}

// The compiler may emit calls to these for struct copies and zeroing.
extern "C" void* memset(void* d, int c, size_t n) {
  auto* p = static_cast<unsigned char*>(d);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(c);
  return d;
}
extern "C" void* memcpy(void* d, const void* s, size_t n) {
  auto* p = static_cast<unsigned char*>(d);
  const auto* q = static_cast<const unsigned char*>(s);
  for (size_t i = 0; i < n; ++i) p[i] = q[i];
  return d;
}

}  // namespace guest
