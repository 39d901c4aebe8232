// Tiny runtime shared by the test guests (tests/guests/*.cpp): port I/O,
// CPUID, VMCALL (docs/guest-abi.md), serial output, the Multiboot command
// line, an exception table, and the PASS/FAIL reporter.
//
// Every guest also runs without mamori (QEMU's Multiboot loader, for the
// smoke test) when given the option bare=1: the runtime then writes only to
// the UART and ends through QEMU's isa-debug-exit port instead of the exit
// hypercall (a VMCALL there would be #UD). Without bare=1 mamori's ABI is
// assumed even if the CPUID signature is wrong (a warning is printed), so a
// VMM bug shows up as failed checks rather than a silently reduced run.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "multiboot.hpp"

namespace guest {

// ---- docs/guest-abi.md --------------------------------------------------
inline constexpr uint32_t kCpuidHvBase = 0x40000000;   // highest leaf + signature
inline constexpr uint32_t kCpuidHvInfo = 0x40000001;   // ABI version, guest id
inline constexpr uint32_t kCpuidHvTiming = 0x40000010; // TSC kHz, APIC bus kHz
inline constexpr uint32_t kCpuidHvMaxLeaf = kCpuidHvTiming;
inline constexpr uint32_t kAbiVersion = 1;
inline constexpr char kSignature[13] = "mamoriVMMabi"; // EBX:ECX:EDX

inline constexpr uint32_t kHcVersion = 0;
inline constexpr uint32_t kHcConsoleWrite = 1;
inline constexpr uint32_t kHcGuestId = 2;
inline constexpr uint32_t kHcExit = 3;
inline constexpr uint32_t kHcError = 0xFFFFFFFF;        // unknown function / bad argument
inline constexpr uint32_t kConsoleWriteMax = 4096;      // longest console write

// Virtual 16550 (COM1).
inline constexpr uint16_t kUartBase = 0x3F8;
inline constexpr uint16_t kUartThr = kUartBase + 0;    // transmit holding register
inline constexpr uint16_t kUartLsr = kUartBase + 5;    // line status register
inline constexpr uint8_t kLsrThre = 0x20;              // THR empty
inline constexpr uint8_t kLsrTemt = 0x40;              // transmitter empty
inline constexpr uint8_t kLsrIdle = kLsrThre | kLsrTemt; // what mamori's LSR reads (0x60)

// CPUID.1:ECX bits (SDM Vol. 2A, CPUID, "Feature Information").
inline constexpr uint32_t kCpuid1EcxVmx = 1u << 5;
inline constexpr uint32_t kCpuid1EcxXsave = 1u << 26;
inline constexpr uint32_t kCpuid1EcxOsxsave = 1u << 27;
inline constexpr uint32_t kCpuid1EcxHypervisor = 1u << 31;

// QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4): a
// write of v ends QEMU with exit code (v << 1) | 1.
inline constexpr uint16_t kQemuDebugExitPort = 0xF4;

// x86 exception vectors (SDM Vol. 3A 6.3.1).
inline constexpr uint8_t kVecDivide = 0, kVecBreakpoint = 3, kVecInvalidOpcode = 6,
                         kVecDoubleFault = 8, kVecGeneralProtection = 13;
inline constexpr uint32_t kExceptionVectors = 32;
inline constexpr uint32_t kIdtVectors = 256;         // 32..255: interrupts (counted, see interrupt_count)

// ---- instructions -------------------------------------------------------
inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
inline uint16_t inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct CpuidResult { uint32_t eax, ebx, ecx, edx; };
inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

// VMCALL: EAX = function, EBX/ECX/EDX = arguments, result in EAX.
inline uint32_t vmcall(uint32_t fn, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0) {
  asm volatile("vmcall" : "+a"(fn) : "b"(a), "c"(b), "d"(c) : "memory");
  return fn;
}

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

inline uint32_t read_cr0() { uint32_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
inline uint32_t read_cr4() { uint32_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
inline void write_cr0(uint32_t v) { asm volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
inline void write_cr4(uint32_t v) { asm volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

// RDMSR/WRMSR are 2-byte instructions (0F 32 / 0F 30): the #GP handler
// skips exactly that many bytes when a fault was expected.
inline constexpr uint8_t kRdmsrLength = 2, kWrmsrLength = 2;
inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo = 0, hi = 0;
  asm volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(v)),
               "d"(static_cast<uint32_t>(v >> 32)) : "memory");
}

// Volatile physical memory access (paging is off: linear = physical).
inline uint32_t peek32(uint32_t addr) { return *reinterpret_cast<volatile uint32_t*>(addr); }
inline void poke32(uint32_t addr, uint32_t v) { *reinterpret_cast<volatile uint32_t*>(addr) = v; }

// The signature as the register values CPUID returns (EBX, ECX, EDX for i = 0, 1, 2).
uint32_t signature_word(uint32_t i);

// n / d without libgcc (64-by-32 division with two DIVs).
uint64_t udiv64(uint64_t n, uint32_t d);

// ---- runtime --------------------------------------------------------------
// True unless the command line has bare=1 (decided at start).
bool mamori_present();

// Interrupts (vectors 32..255) taken so far, and a hook called for each
// (the test's EOI to its interrupt controller).
using InterruptHook = void (*)(uint8_t vector);
uint32_t interrupt_count(uint8_t vector);
void set_interrupt_hook(InterruptHook h);

void putc(char c);                 // UART, LSR-polled
void puts(const char* s);          // UART
// printf subset: %s %c %d %u %x %X with optional '0' and width, and the
// 'll' length modifier for 64-bit %u/%x. Output to the UART.
void print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Formats into buf (always NUL-terminated), returns the length.
size_t format(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// VMCALL 1; returns bytes written or kHcError. Without mamori: UART, len.
uint32_t console_write(const void* data, uint32_t len);

// Ends the guest: VMCALL 3 under mamori, isa-debug-exit under QEMU.
[[noreturn]] void exit(uint32_t status);

// Multiboot information from the loader (nullptr if EAX was not 0x2BADB002).
const multiboot::Info* boot_info();
const char* cmdline();             // "" when none
// The VM name: the first word of the command line, without directories.
void vm_name(char* out, size_t cap);
// A numeric option, either a command line word `key=N` or a segment
// `-keyN` / `_keyN` of the VM name (mamori.cfg has no command line field,
// so the VM name is where a test config can put it). Decimal or 0x-hex.
uint32_t option(const char* key, uint32_t fallback);
// End of RAM: highest end of a type-1 mmap entry, else 1 MiB + mem_upper.
uint64_t ram_end();

// ---- exceptions -----------------------------------------------------------
// Register frame built by the stubs in entry.S (pushal order, then vector,
// error code, and what the CPU pushed without a privilege change).
struct TrapFrame {
  uint32_t edi, esi, ebp, esp_at_pushal, ebx, edx, ecx, eax;
  uint32_t vector, error;
  uint32_t eip, cs, eflags;
};
struct FaultRecord {
  bool hit;
  uint32_t vector, error, eip;
};
// Arms a one-shot expectation: the next exception `vector` is recorded and
// the faulting instruction (`skip` bytes long) is skipped. Any other
// exception ends the guest with a report.
void expect_fault(uint8_t vector, uint8_t skip);
// Returns and clears what was recorded since expect_fault (hit = false if
// nothing faulted; the expectation is disarmed either way).
FaultRecord take_fault();
// Loads an IDT with limit 0 (every exception then escalates to a triple fault).
void load_empty_idt();

// ---- results ----------------------------------------------------------------
// Lines are "<program>: PASS <name>" / "<program>: FAIL <name> (got X, want Y)"
// / "<program>: SKIP <name> (<why>)", and finish() prints
// "<program>: DONE <p> passed, <f> failed" and exits with the failure count.
void report_pass(const char* name);
void report_fail(const char* name, const char* why_fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char* name, const char* why);
bool check(const char* name, bool ok);
bool check_eq(const char* name, uint64_t got, uint64_t want);
[[noreturn]] void finish();
uint32_t failures();

// Each guest program provides these.
extern const char kProgram[];      // prefix of its lines ("exits")
void main();                       // returning = exit(0) (or finish() if checks ran)

}  // namespace guest
