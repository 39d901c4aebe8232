// A hostile vTPM engine: put in place of vtpm-service for one guest (config
// `engine = hostile-engine`) by tests/system/bochs_hostile_engine.py. It
// speaks just enough of the partition protocol (docs/vtpm-protocol.md §1)
// to be started (answers `init`), then, at the guest's first TPM command,
// attacks the VMM in the way its argv[0] (the VM's name) selects:
//
//   ...-gs       the GS trick of issue 9 finding 1: map page 0 with a fake
//                PerCpu record (its kernel stack and CR3 ours), make GS's
//                base 0 by a selector load, SYSCALL; then WRGSBASE
//   ...-page0    map / mprotect / brk page 0 and below 64 KiB, then read 0
//   ...-exhaust  (at init already) mmap until refused: the quota
//   ...-fault    a #UD
//   ...-vmmread  read a VMM .bss address (patched in by the test: see
//                kVmmData; else the VMM's first text page)
//   ...-sgdt     SGDT (UMIP: #GP), then read the GDT it names
//   ...-loop     an endless loop (the CPU budget); it commits a state blob
//                at init first and, restarted from it (set_state), answers
//                commands instead
//
// Every step writes a line to fd 2 first ("hostile-engine MODE: ..."), so
// the console shows how far it came. Freestanding: no libc, no libtpms.
#include <stddef.h>
#include <stdint.h>

namespace {
enum : long { kRead = 0, kWrite = 1, kMmap = 9, kMprotect = 10, kBrk = 12, kGetpid = 39, kExit = 60 };
constexpr long kProtRw = 3, kMapPrivAnon = 0x22, kMapFixed = 0x10;

long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  long r;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return r;
}

// Patched by the system test (a VMM .bss address from vmm.elf's symbol
// table) at the marker; 0 when not patched.
struct Patch {
  char marker[16];
  uint64_t value;
};
volatile Patch kVmmData = {{'M', 'A', 'M', 'O', 'R', 'I', '-', 'V', 'M', 'M', 'D', 'A', 'T', 'A', '!', 0}, 0};

size_t len(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}
const char* g_mode = "?";
char g_line[200];
size_t g_pos;
void put(const char* s) {
  for (; *s && g_pos + 1 < sizeof g_line; ++s) g_line[g_pos++] = *s;
}
void put_hex(uint64_t v) {
  put("0x");
  char b[17];
  int i = 16;
  b[i] = 0;
  do { b[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
  put(b + i);
}
void put_dec(long v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  bool neg = v < 0;
  unsigned long u = neg ? -static_cast<unsigned long>(v) : v;
  do { b[--i] = static_cast<char>('0' + u % 10); u /= 10; } while (u);
  if (neg) b[--i] = '-';
  put(b + i);
}
void begin() {
  g_pos = 0;
  put("hostile-engine ");
  put(g_mode);
  put(": ");
}
void end() {
  put("\n");
  sys(kWrite, 2, reinterpret_cast<long>(g_line), static_cast<long>(g_pos));
}
void say(const char* s) { begin(); put(s); end(); }
void say_result(const char* what, long r) { begin(); put(what); put(" = "); put_dec(r); end(); }

bool read_all(uint8_t* p, size_t n) {
  while (n) {
    long r = sys(kRead, 0, reinterpret_cast<long>(p), static_cast<long>(n));
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void send_frame(uint8_t type, uint8_t arg, const uint8_t* payload, uint32_t n) {
  uint8_t h[12] = {'M', 'V', 'T', 'P', 1, type, arg, 0};
  put_u32(h + 8, n);
  sys(kWrite, 1, reinterpret_cast<long>(h), sizeof h);
  if (n) sys(kWrite, 1, reinterpret_cast<long>(payload), n);
}
// A result frame (type 0x82): the answer to init and set_state.
void send_result(uint8_t request, uint32_t value) {
  uint8_t v[4];
  put_u32(v, value);
  send_frame(0x82, request, v, sizeof v);
}
const uint8_t kCommitted[] = {'h', 'o', 's', 't', 'i', 'l', 'e', '-', 's', 't', 'a', 't', 'e'};
bool g_restored;

bool mode_is(const char* name) {
  size_t n = len(g_mode), k = len(name);
  if (n < k) return false;
  for (size_t i = 0; i < k; ++i)
    if (g_mode[n - k + i] != name[i]) return false;
  return true;
}

void exhaust() {
  long mib = 0;
  for (;;) {
    long r = sys(kMmap, 0, 1 << 20, kProtRw, kMapPrivAnon, -1, 0);
    if (r < 0 && r > -4096) {
      begin();
      put("mmap refused (");
      put_dec(r);
      put(") after ");
      put_dec(mib);
      put(" MiB");
      end();
      return;
    }
    ++mib;
  }
}

[[noreturn]] void gs_trick() {
  long r = sys(kMmap, 0, 4096, kProtRw, kMapPrivAnon | kMapFixed, -1, 0);
  say_result("mmap(0, MAP_FIXED)", r);
  if (r == 0) {
    // A fake PerCpu at GS base 0 (vmm/percpu.hpp offsets): its kernel stack
    // and the VMM's CR3 slots point at process memory.
    auto* fake = reinterpret_cast<volatile uint64_t*>(0);
    for (int i = 0; i < 512; ++i) fake[i] = 0x800;
  }
  // 64-bit mode: a selector load sets the base from the descriptor (0).
  asm volatile("mov %0, %%gs" ::"r"(0x33));
  r = sys(kGetpid);
  say_result("getpid with GS base 0", r);
  say("WRGSBASE next (CR4.FSGSBASE clear: #UD)");
  asm volatile("wrgsbase %0" ::"r"(0x10000ul));
  say("NOT CONTAINED: WRGSBASE worked");
  sys(kExit, 99);
  __builtin_unreachable();
}

[[noreturn]] void page0() {
  say_result("mmap(0, MAP_FIXED)", sys(kMmap, 0, 4096, kProtRw, kMapPrivAnon | kMapFixed, -1, 0));
  say_result("mmap(0x1000, MAP_FIXED)", sys(kMmap, 0x1000, 4096, kProtRw, kMapPrivAnon | kMapFixed, -1, 0));
  say_result("mprotect(0, 4096, RW)", sys(kMprotect, 0, 4096, kProtRw));
  long b = sys(kBrk, 0);
  say_result("brk(0x1000) moved", sys(kBrk, 0x1000) != b);
  say("reading address 0");
  uint64_t v = *reinterpret_cast<volatile uint64_t*>(0);
  begin(); put("NOT CONTAINED: read "); put_hex(v); put(" at 0"); end();
  sys(kExit, 99);
  __builtin_unreachable();
}

[[noreturn]] void read_at(uint64_t target) {
  begin(); put("reading VMM data at "); put_hex(target); end();
  uint64_t v = *reinterpret_cast<volatile uint64_t*>(target);
  begin(); put("NOT CONTAINED: read "); put_hex(v); end();
  sys(kExit, 99);
  __builtin_unreachable();
}

[[noreturn]] void attack() {
  if (mode_is("-gs")) gs_trick();
  if (mode_is("-page0")) page0();
  if (mode_is("-vmmread")) read_at(kVmmData.value ? kVmmData.value : 0xFFFFFFFF80000000ull);
  if (mode_is("-sgdt")) {
    struct [[gnu::packed]] { uint16_t limit; uint64_t base; } gdtr = {0, 0};
    say("SGDT next (UMIP: #GP)");
    asm volatile("sgdt %0" : "=m"(gdtr));
    begin(); put("SGDT gave base "); put_hex(gdtr.base); end();
    read_at(gdtr.base);
  }
  if (mode_is("-loop")) {
    say("looping");
    for (;;) asm volatile("" ::: "memory");
  }
  if (mode_is("-exhaust")) {
    say("out of memory: exiting with status 12");
    sys(kExit, 12);
  }
  say("#UD next");
  asm volatile("ud2");
  sys(kExit, 99);
  __builtin_unreachable();
}
}  // namespace

extern "C" [[noreturn]] void hostile_main(long* sp) {
  char** argv = reinterpret_cast<char**>(sp + 1);
  if (sp[0] > 0 && argv[0]) g_mode = argv[0];
  say("started");
  if (mode_is("-exhaust")) exhaust();
  for (;;) {
    uint8_t h[12];
    if (!read_all(h, sizeof h)) sys(kExit, 1);
    uint32_t n = h[8] | h[9] << 8 | h[10] << 16 | static_cast<uint32_t>(h[11]) << 24;
    static uint8_t payload[8192];
    if (n > sizeof payload || !read_all(payload, n)) sys(kExit, 2);
    if (h[5] == 0x02) {  // init: a TPM "manufactured", and (loop) committed state to come back to
      if (!g_restored && mode_is("-loop")) send_frame(0x84, 1, kCommitted, sizeof kCommitted);
      send_result(0x02, 0);
      continue;
    }
    if (h[5] == 0x06) {  // set_state: the VMM restarted us from what we committed
      bool ours = n == sizeof kCommitted;
      for (uint32_t i = 0; ours && i < n; ++i) ours = payload[i] == kCommitted[i];
      g_restored = ours;
      say(ours ? "restarted from the committed state" : "set_state with a foreign blob");
      send_result(0x06, ours ? 0 : 1);
      continue;
    }
    if (h[5] == 0x01 && g_restored) {
      // Behave: a TPM2_GetRandom(8)-shaped success (TPM 2.0 Part 3 §16.1).
      static const uint8_t rsp[20] = {0x80, 0x01, 0, 0, 0, 20, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
      say("answering after the restart");
      send_frame(0x81, 0, rsp, sizeof rsp);
      continue;
    }
    if (h[5] == 0x01) attack();  // a guest's TPM command
    send_result(h[5], 0);
  }
}

asm(R"(
    .globl _start
_start:
    mov %rsp, %rdi
    and $-16, %rsp
    call hostile_main
    ud2
)");
