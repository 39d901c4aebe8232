// exits: makes every exit the VMM handles happen and checks what comes back
// against docs/guest-abi.md (and, where the ABI is silent, the SDM), one
// PASS/FAIL line per check, then "exits: DONE <p> passed, <f> failed" and
// the exit hypercall with the failure count as status. Never executes HLT
// (with interrupts off that stops the guest). docs/guests.md lists the checks.
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "exits";

namespace {

// Model-specific registers (SDM Vol. 4, "Model-Specific Registers").
constexpr uint32_t kMsrTsc = 0x10;                 // IA32_TIME_STAMP_COUNTER: assumed allowlisted for reads
constexpr uint32_t kMsrFeatureControl = 0x3A;      // IA32_FEATURE_CONTROL: writes must #GP
constexpr uint32_t kMsrVmxBasic = 0x480;           // IA32_VMX_BASIC: VMX is hidden, reads must #GP
constexpr uint32_t kMsrMtrrCap = 0xFE;             // IA32_MTRRCAP: WC, fixed ranges, 8 variable (0x508)
constexpr uint32_t kMsrMtrrDefType = 0x2FF;        // IA32_MTRR_DEF_TYPE: enabled, WB default (0x806)
constexpr uint32_t kMsrMtrrPhysBase0 = 0x200;      // a variable-range MTRR: stored, types checked
constexpr uint32_t kMsrLstar = 0xC0000082;         // per guest, switched in the CPU
constexpr uint32_t kMsrAperf = 0xE8;               // hidden (CPUID.06H:ECX[0] clear): #GP

// Control-register bits (SDM Vol. 3A 2.5).
constexpr uint32_t kCr0Ne = 1u << 5;    // owned by the VMM's CR0 mask (VMX fixed-1): a change exits
constexpr uint32_t kCr0Wp = 1u << 16;   // not owned: a change does not exit
constexpr uint32_t kCr0Nw = 1u << 29, kCr0Cd = 1u << 30;
constexpr uint32_t kCr4Osfxsr = 1u << 9;
constexpr uint32_t kCr4Vmxe = 1u << 13; // owned (VMX fixed-1); mamori answers #GP
constexpr uint32_t kCr4Osxsave = 1u << 18;
// Encodings used below, for skipping a faulting instruction:
// MOV CR0/CR4, EAX = 0F 22 C0 / 0F 22 E0; XSETBV = 0F 01 D1.
constexpr uint8_t kMovToCrLength = 3, kXsetbvLength = 3;

// XCR0 state components (SDM Vol. 1 13.3).
constexpr uint32_t kXcr0X87 = 1u << 0, kXcr0Sse = 1u << 1;

// Ports: an unassigned one (0x300, the ISA "prototype card" range that
// mamori does not emulate) and the 16550's other registers.
constexpr uint16_t kUnassignedPort = 0x300;
constexpr uint16_t kUartIer = kUartBase + 1, kUartIir = kUartBase + 2, kUartLcr = kUartBase + 3,
                   kUartMcr = kUartBase + 4, kUartMsr = kUartBase + 6, kUartScr = kUartBase + 7;
constexpr uint8_t kLcrDlab = 0x80 | 0x03;  // DLAB + 8 data bits: what a driver writes first
constexpr uint8_t kLcr8n1 = 0x03;          // 8 data bits, no parity, 1 stop bit (PC16550D §8.5)
constexpr uint8_t kIirNone = 0x01, kIirThre = 0x02;  // IIR: no interrupt pending; THR empty (FIFOs off)
constexpr uint8_t kIerThre = 0x02;         // IER: ETBEI
constexpr uint8_t kDivisor9600 = 12, kDivisor115200 = 1;  // 1.8432 MHz / 16 / divisor

// vTPM TIS locality 0 (TCG PC Client Platform TPM Profile, TIS register map).
constexpr uint32_t kTisBase = 0xFED40000;
constexpr uint32_t kTisAccess = kTisBase + 0x0;
constexpr uint32_t kTisDidVid = kTisBase + 0xF00;
constexpr uint32_t kTisAccessValid = 0x80;   // tpmRegValidSts

constexpr uint32_t kUnassignedHypercall = 4;        // first function number the ABI does not define
constexpr uint32_t kFarUnassignedHypercall = 0x80000000;

// Distinct values to see whether a hypercall changed registers it does not return in.
constexpr uint32_t kMarkB = 0xB0B0B0B0, kMarkC = 0xC0C0C0C0, kMarkD = 0xD0D0D0D0,
                   kMarkS = 0x5151A1A1, kMarkDi = 0xD1D1D1D1;

const char kConsoleLine[] = "exits: console write through VMCALL 1\n";

// MOV to CR0/CR4 with EAX so the instruction length is known.
void mov_cr0_eax(uint32_t v) { asm volatile("mov %%eax, %%cr0" ::"a"(v) : "memory"); }
void mov_cr4_eax(uint32_t v) { asm volatile("mov %%eax, %%cr4" ::"a"(v) : "memory"); }
void xsetbv(uint32_t xcr, uint64_t v) {
  asm volatile("xsetbv" ::"c"(xcr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32))
               : "memory");
}
uint64_t xgetbv(uint32_t xcr) {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Expects `vector` from `fn`: PASS when exactly that fault happened.
template <typename Fn>
void check_fault(const char* name, uint8_t vector, uint8_t length, Fn fn) {
  expect_fault(vector, length);
  fn();
  const FaultRecord r = take_fault();
  if (r.hit) report_pass(name);
  else report_fail(name, "no exception %u", vector);
}

// Expects no fault from `fn` (a #GP would be recorded and skipped rather
// than ending the guest, so one wrong answer does not hide the rest).
template <typename Fn>
bool check_no_gp(const char* name, uint8_t length, Fn fn) {
  expect_fault(kVecGeneralProtection, length);
  fn();
  const FaultRecord r = take_fault();
  if (!r.hit) return true;
  report_fail(name, "#GP(0x%x) at 0x%x", r.error, r.eip);
  return false;
}

uint32_t g_cpuid_guest_id = 0;

void cpuid_checks() {
  const CpuidResult hv = cpuid(kCpuidHvBase);
  check_eq("cpuid-hv-max-leaf", hv.eax, kCpuidHvMaxLeaf);
  const bool sig = hv.ebx == signature_word(0) && hv.ecx == signature_word(1) &&
                   hv.edx == signature_word(2);
  if (sig) report_pass("cpuid-signature");
  else report_fail("cpuid-signature", "got %08x:%08x:%08x", hv.ebx, hv.ecx, hv.edx);
  const CpuidResult info = cpuid(kCpuidHvInfo);
  check_eq("cpuid-abi-version", info.eax, kAbiVersion);
  g_cpuid_guest_id = info.ebx;
  const CpuidResult f = cpuid(1);
  check_eq("cpuid1-vmx-clear", f.ecx & kCpuid1EcxVmx, 0);
  check_eq("cpuid1-hypervisor-set", f.ecx & kCpuid1EcxHypervisor, kCpuid1EcxHypervisor);
  check("cpuid0-max-leaf", cpuid(0).eax >= 1);
  // docs/guest-abi.md: what the VMM virtualises is advertised, the rest not.
  check_eq("cpuid1-x2apic-set", f.ecx & (1u << 21), 1u << 21);
  check_eq("cpuid1-tsc-deadline-set", f.ecx & (1u << 24), 1u << 24);
  check_eq("cpuid1-monitor-clear", f.ecx & (1u << 3), 0);
  check_eq("cpuid1-pdcm-clear", f.ecx & (1u << 15), 0);
  check_eq("cpuid1-mtrr-mce-mca-set", f.edx & 0x5080, 0x5080);
  check_eq("cpuid-pmu-leaf-zero", cpuid(0xA).eax, 0);
  check_eq("cpuid7-tsc-adjust-clear", cpuid(7).ebx & (1u << 1), 0);
  const CpuidResult tsc = cpuid(0x15);
  check("cpuid15-tsc-ratio", tsc.eax != 0 && tsc.ebx != 0 && tsc.ecx != 0);
  const CpuidResult timing = cpuid(kCpuidHvTiming);
  check("cpuid-hv-timing-tsc-khz", timing.eax != 0);
  // The APIC timer clock is 15H's crystal (the same clock in kHz), never
  // faster than the TSC (Bochs's TSC runs at 10 MHz).
  check_eq("cpuid-hv-timing-apic-khz", timing.ebx, tsc.ecx / 1000);
  check("cpuid-hv-timing-apic-le-tsc", timing.ebx != 0 && timing.ebx <= timing.eax);
}

void vmcall_checks() {
  check_eq("vmcall-version", vmcall(kHcVersion), kAbiVersion);
  check_eq("vmcall-guest-id", vmcall(kHcGuestId), g_cpuid_guest_id);
  const uint32_t len = sizeof kConsoleLine - 1;
  check_eq("vmcall-console-write", vmcall(kHcConsoleWrite, reinterpret_cast<uint32_t>(kConsoleLine), len), len);
  check_eq("vmcall-console-empty", vmcall(kHcConsoleWrite, reinterpret_cast<uint32_t>(kConsoleLine), 0), 0);
  check_eq("vmcall-console-too-long",
           vmcall(kHcConsoleWrite, reinterpret_cast<uint32_t>(kConsoleLine), kConsoleWriteMax + 1), kHcError);
  const uint64_t end = ram_end();
  if (end == 0 || end >= (1ull << 32)) {
    report_skip("vmcall-console-outside-ram", "RAM end unknown or above 4 GiB");
  } else {
    const uint32_t e = static_cast<uint32_t>(end);
    check_eq("vmcall-console-outside-ram", vmcall(kHcConsoleWrite, e, len), kHcError);
    check_eq("vmcall-console-straddles-ram-end", vmcall(kHcConsoleWrite, e - len / 2, len), kHcError);
  }
  check_eq("vmcall-console-wraps-4g", vmcall(kHcConsoleWrite, 0xFFFFFFF0u, 0x20), kHcError);
  check_eq("vmcall-unknown-function", vmcall(kUnassignedHypercall), kHcError);
  check_eq("vmcall-unknown-function-high", vmcall(kFarUnassignedHypercall), kHcError);

  uint32_t a = kHcVersion, b = kMarkB, c = kMarkC, d = kMarkD, s = kMarkS, di = kMarkDi;
  asm volatile("vmcall" : "+a"(a), "+b"(b), "+c"(c), "+d"(d), "+S"(s), "+D"(di) : : "memory");
  const bool kept = b == kMarkB && c == kMarkC && d == kMarkD && s == kMarkS && di == kMarkDi;
  if (kept) report_pass("vmcall-preserves-registers");
  else report_fail("vmcall-preserves-registers", "ebx %x ecx %x edx %x esi %x edi %x", b, c, d, s, di);
}

void io_checks() {
  // COM1 is a 16550A (docs/devices.md) in the state firmware leaves it:
  // 115200 baud, 8N1, no interrupts enabled, FIFO off.
  check_eq("uart-lsr", inb(kUartLsr), kLsrIdle);
  check_eq("uart-lcr-8n1", inb(kUartLcr), kLcr8n1);
  check_eq("uart-ier-off", inb(kUartIer), 0);
  check_eq("uart-iir-none-pending", inb(kUartIir), kIirNone);
  outb(kUartScr, 0x5A);
  check_eq("uart-scratch", inb(kUartScr), 0x5A);
  // The divisor latch (DLAB = 1): the writes set the baud rate and no
  // byte reaches the console (a stray one would break the next line).
  // Nothing is printed while DLAB is set: THR writes would go to DLL.
  outb(kUartLcr, kLcrDlab);
  const uint8_t lcr_dlab = inb(kUartLcr);
  outb(kUartBase, kDivisor9600);
  outb(kUartIer, 0);
  const uint8_t dll = inb(kUartBase), dlm = inb(kUartIer);
  outb(kUartBase, kDivisor115200);
  outb(kUartLcr, kLcr8n1);
  check_eq("uart-dlab-set", lcr_dlab, kLcrDlab);
  check_eq("uart-divisor-low", dll, kDivisor9600);
  check_eq("uart-divisor-high", dlm, 0);
  check_eq("uart-lsr-after-dlab", inb(kUartLsr), kLsrIdle);
  // THRE interrupt: enabling it with THR empty raises it at once (Linux's
  // serial8250 THRE test relies on this); reading IIR clears it (until the
  // next THR write: report only after both reads).
  outb(kUartIer, kIerThre);
  const uint8_t iir1 = inb(kUartIir), iir2 = inb(kUartIir);
  outb(kUartIer, 0);
  check_eq("uart-iir-thre", iir1, kIirThre);
  check_eq("uart-iir-thre-cleared-by-read", iir2, kIirNone);

  check_eq("io-unassigned-inb", inb(kUnassignedPort), 0xFF);
  check_eq("io-unassigned-inw", inw(kUnassignedPort), 0xFFFF);
  check_eq("io-unassigned-inl", inl(kUnassignedPort), 0xFFFFFFFF);
  outb(kUnassignedPort, 0);
  check_eq("io-unassigned-write-ignored", inb(kUnassignedPort), 0xFF);
}

// ---- virtual interrupt controllers and timers (docs/devices.md) ----------
// Each check arms one interrupt source, executes STI; HLT and expects the
// interrupt to end the HLT (mamori: the vCPU sleeps until its device
// raises the interrupt, then it is injected). A broken path hangs the
// guest in HLT: the system test's time limit fails it.
constexpr uint32_t kLapic = 0xFEE00000;
constexpr uint32_t kLapicId = kLapic + 0x20, kLapicVersion = kLapic + 0x30, kLapicTpr = kLapic + 0x80,
                   kLapicEoi = kLapic + 0xB0, kLapicSvr = kLapic + 0xF0, kLapicLvtTimer = kLapic + 0x320,
                   kLapicTimerInitial = kLapic + 0x380, kLapicTimerCurrent = kLapic + 0x390,
                   kLapicTimerDivide = kLapic + 0x3E0;
constexpr uint32_t kMsrApicBase = 0x1B;
constexpr uint64_t kApicBaseEnable = 1u << 11, kApicBaseBsp = 1u << 8;
constexpr uint32_t kSvrEnable = 0x100, kDivideBy1 = 0xB;
constexpr uint8_t kTimerVector = 0x40, kPicBase = 0x20, kIoapicVector = 0x41;
constexpr uint32_t kIoapic = 0xFEC00000, kIoapicSelect = kIoapic, kIoapicWindow = kIoapic + 0x10;
constexpr uint16_t kPic1Cmd = 0x20, kPic1Data = 0x21, kPic2Cmd = 0xA0, kPic2Data = 0xA1;
constexpr uint16_t kPitCh0 = 0x40, kPitCtl = 0x43;
constexpr uint8_t kPitCh0Mode2 = 0x34;  // channel 0, lobyte/hibyte, mode 2 (rate generator), binary
constexpr uint16_t kPit1kHz = 1193;     // 1.193182 MHz / 1193

void lapic_eoi(uint8_t) { poke32(kLapicEoi, 0); }
void pic_eoi(uint8_t) { outb(kPic1Cmd, 0x20); }  // non-specific EOI (OCW2)

// STI; HLT until `vector` has been taken `n` times (at most `max_halts` HLTs).
bool wait_for(uint8_t vector, uint32_t before, uint32_t max_halts) {
  for (uint32_t i = 0; i < max_halts && interrupt_count(vector) == before; ++i) asm volatile("sti; hlt; cli" ::: "memory");
  return interrupt_count(vector) > before;
}

void interrupt_checks() {
  const uint64_t base = rdmsr(kMsrApicBase);
  check_eq("lapic-apic-base-msr", static_cast<uint32_t>(base & ~0xFFFull), kLapic);
  if ((base & (kApicBaseEnable | kApicBaseBsp)) == (kApicBaseEnable | kApicBaseBsp)) report_pass("lapic-enabled-bsp");
  else report_fail("lapic-enabled-bsp", "IA32_APIC_BASE 0x%llx", base);
  check_eq("lapic-id", peek32(kLapicId) >> 24, 0);
  const uint32_t ver = peek32(kLapicVersion);
  if ((ver & 0xFF) >= 0x10 && ((ver >> 16) & 0xFF) >= 5) report_pass("lapic-version");
  else report_fail("lapic-version", "0x%x (want an integrated APIC, >= 6 LVT entries)", ver);
  poke32(kLapicTpr, 0x20);
  check_eq("lapic-tpr-roundtrip", peek32(kLapicTpr) & 0xFF, 0x20);
  poke32(kLapicTpr, 0);

  // One-shot LAPIC timer -> vector 0x40.
  set_interrupt_hook(lapic_eoi);
  poke32(kLapicSvr, kSvrEnable | 0xFF);
  poke32(kLapicTimerDivide, kDivideBy1);
  poke32(kLapicLvtTimer, kTimerVector);  // one-shot, unmasked
  poke32(kLapicTimerInitial, 100000);
  if (peek32(kLapicTimerCurrent) <= 100000) report_pass("lapic-timer-counts");
  else report_fail("lapic-timer-counts", "current count 0x%x", peek32(kLapicTimerCurrent));
  if (wait_for(kTimerVector, 0, 1000)) report_pass("lapic-timer-oneshot-wakes-hlt");
  else report_fail("lapic-timer-oneshot-wakes-hlt", "no interrupt after 1000 HLTs");
  // Periodic: several interrupts, each acknowledged by the EOI hook.
  poke32(kLapicLvtTimer, kTimerVector | (1u << 17));
  poke32(kLapicTimerInitial, 200000);
  const uint32_t before = interrupt_count(kTimerVector);
  bool periodic = true;
  for (uint32_t k = 0; k < 3 && periodic; ++k) periodic = wait_for(kTimerVector, before + k, 1000);
  poke32(kLapicLvtTimer, kTimerVector | (1u << 16));  // masked
  poke32(kLapicTimerInitial, 0);
  if (periodic) report_pass("lapic-timer-periodic");
  else report_fail("lapic-timer-periodic", "%u interrupts", interrupt_count(kTimerVector) - before);

  // 8259A + 8254: PIT channel 0 at 1 kHz on IRQ 0, through the PIC and the
  // LAPIC's LINT0 (ExtINT, virtual wire as firmware leaves it).
  set_interrupt_hook(pic_eoi);
  outb(kPic1Cmd, 0x11); outb(kPic1Data, kPicBase); outb(kPic1Data, 0x04); outb(kPic1Data, 0x01);  // ICW1-4
  outb(kPic2Cmd, 0x11); outb(kPic2Data, kPicBase + 8); outb(kPic2Data, 0x02); outb(kPic2Data, 0x01);
  outb(kPic2Data, 0xFF);
  outb(kPic1Data, 0xFE);  // IRQ 0 only
  check_eq("pic-imr-readback", inb(kPic1Data), 0xFE);
  outb(kPitCtl, kPitCh0Mode2);
  outb(kPitCh0, kPit1kHz & 0xFF);
  outb(kPitCh0, kPit1kHz >> 8);
  if (wait_for(kPicBase, 0, 1000)) report_pass("pit-irq0-through-pic-wakes-hlt");
  else report_fail("pit-irq0-through-pic-wakes-hlt", "no IRQ 0 after 1000 HLTs");
  outb(kPic1Data, 0xFF);  // mask everything again

  // IOAPIC: version, then the PIT's IRQ 0 on pin 2 (the MADT's override)
  // routed to vector 0x41 on LAPIC 0, edge, active high.
  poke32(kIoapicSelect, 1);
  const uint32_t iover = peek32(kIoapicWindow);
  if ((iover & 0xFF) == 0x11 && ((iover >> 16) & 0xFF) == 23) report_pass("ioapic-version-24-pins");
  else report_fail("ioapic-version-24-pins", "0x%x", iover);
  set_interrupt_hook(lapic_eoi);
  poke32(kIoapicSelect, 0x10 + 2 * 2 + 1);
  poke32(kIoapicWindow, 0);            // destination APIC 0
  poke32(kIoapicSelect, 0x10 + 2 * 2);
  poke32(kIoapicWindow, kIoapicVector); // fixed, physical, edge, high, unmasked
  if (wait_for(kIoapicVector, 0, 1000)) report_pass("pit-irq0-through-ioapic-pin2");
  else report_fail("pit-irq0-through-ioapic-pin2", "no vector 0x41 after 1000 HLTs");
  poke32(kIoapicWindow, kIoapicVector | (1u << 16));  // masked
  outb(kPitCtl, 0x30);  // channel 0, mode 0, no reload: stops the rate generator
  set_interrupt_hook(nullptr);
}

void msr_checks() {
  uint64_t t1 = 0, t2 = 0;
  const bool ok1 = check_no_gp("msr-tsc-read", kRdmsrLength, [&] { t1 = rdmsr(kMsrTsc); });
  const bool ok2 = ok1 && check_no_gp("msr-tsc-read", kRdmsrLength, [&] { t2 = rdmsr(kMsrTsc); });
  if (ok1 && ok2) {
    if (t2 > t1) report_pass("msr-tsc-read");
    else report_fail("msr-tsc-read", "not increasing: 0x%llx then 0x%llx", t1, t2);
  }
  check_fault("msr-feature-control-write-gp", kVecGeneralProtection, kWrmsrLength,
              [] { wrmsr(kMsrFeatureControl, 0); });
  check_fault("msr-vmx-basic-read-gp", kVecGeneralProtection, kRdmsrLength,
              [] { (void)rdmsr(kMsrVmxBasic); });
  check_fault("msr-aperf-read-gp", kVecGeneralProtection, kRdmsrLength, [] { (void)rdmsr(kMsrAperf); });
  uint64_t v = 0;
  if (check_no_gp("msr-mtrrcap", kRdmsrLength, [&] { v = rdmsr(kMsrMtrrCap); })) check_eq("msr-mtrrcap", v, 0x508);
  if (check_no_gp("msr-mtrr-def-type", kRdmsrLength, [&] { v = rdmsr(kMsrMtrrDefType); }))
    check_eq("msr-mtrr-def-type", v, 0x806);
  if (check_no_gp("msr-mtrr-var-write", kWrmsrLength, [] { wrmsr(kMsrMtrrPhysBase0, 0x6); }))
    check_eq("msr-mtrr-var-write", rdmsr(kMsrMtrrPhysBase0), 0x6);
  check_fault("msr-mtrr-bad-type-gp", kVecGeneralProtection, kWrmsrLength, [] { wrmsr(kMsrMtrrPhysBase0, 0x2); });
  constexpr uint64_t kLstar = 0xFFFFFFFF81234560ull;
  if (check_no_gp("msr-lstar-write", kWrmsrLength, [] { wrmsr(kMsrLstar, kLstar); }))
    check_eq("msr-lstar-reads-back", rdmsr(kMsrLstar), kLstar);
  check_fault("msr-lstar-noncanonical-gp", kVecGeneralProtection, kWrmsrLength,
              [] { wrmsr(kMsrLstar, 0x0000800000000000ull); });
}

// INVD/WBINVD complete without a fault (the VMM does not flush for them);
// MONITOR/MWAIT are #UD (CPUID hides them); RDPMC is #GP (no PMU).
void instruction_checks() {
  constexpr uint8_t kWbinvdLength = 2, kInvdLength = 2, kMonitorLength = 3, kMwaitLength = 3, kRdpmcLength = 2;
  if (check_no_gp("wbinvd-completes", kWbinvdLength, [] { asm volatile("wbinvd" ::: "memory"); }))
    report_pass("wbinvd-completes");
  if (check_no_gp("invd-completes", kInvdLength, [] { asm volatile(".byte 0x0F, 0x08  # invd" ::: "memory"); }))
    report_pass("invd-completes");
  check_fault("monitor-ud", kVecInvalidOpcode, kMonitorLength,
              [] { asm volatile("monitor" ::"a"(&g_cpuid_guest_id), "c"(0), "d"(0) : "memory"); });
  check_fault("mwait-ud", kVecInvalidOpcode, kMwaitLength, [] { asm volatile("mwait" ::"a"(0), "c"(0) : "memory"); });
  check_fault("rdpmc-gp", kVecGeneralProtection, kRdpmcLength, [] {
    uint32_t lo, hi;
    asm volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0));
  });
}

void cr_checks() {
  const uint32_t cr0 = read_cr0();
  // NE is owned by the VMM's mask: the write exits and the read shadow answers.
  if (check_no_gp("cr0-roundtrip-ne", kMovToCrLength, [&] { mov_cr0_eax(cr0 ^ kCr0Ne); })) {
    const uint32_t got = read_cr0();
    mov_cr0_eax(cr0);
    check_eq("cr0-roundtrip-ne", got, cr0 ^ kCr0Ne);
  }
  check_eq("cr0-restored", read_cr0(), cr0);
  write_cr0(cr0 ^ kCr0Wp);
  const uint32_t wp = read_cr0();
  write_cr0(cr0);
  check_eq("cr0-roundtrip-wp", wp, cr0 ^ kCr0Wp);
  // QEMU's TCG (the smoke test) accepts NW without CD and hangs on
  // CR4.VMXE: the two #GP checks run under mamori only.
  if (mamori_present()) {
    check_fault("cr0-nw-without-cd-gp", kVecGeneralProtection, kMovToCrLength,
              [&] { mov_cr0_eax((cr0 | kCr0Nw) & ~kCr0Cd); });
    const uint32_t after = read_cr0();
    write_cr0(cr0);   // in case the write was (wrongly) accepted
    check_eq("cr0-after-gp", after, cr0);
  }

  const uint32_t cr4 = read_cr4();
  write_cr4(cr4 ^ kCr4Osfxsr);
  const uint32_t fx = read_cr4();
  write_cr4(cr4);
  check_eq("cr4-roundtrip-osfxsr", fx, cr4 ^ kCr4Osfxsr);
  if (mamori_present()) {
    check_fault("cr4-vmxe-gp", kVecGeneralProtection, kMovToCrLength,
                [&] { mov_cr4_eax(cr4 | kCr4Vmxe); });
    check_eq("cr4-vmxe-stays-clear", read_cr4() & kCr4Vmxe, 0);
  }
}

void xsetbv_checks() {
  if ((cpuid(1).ecx & kCpuid1EcxXsave) == 0) {
    report_skip("xsetbv", "CPUID.1:ECX.XSAVE clear");
    return;
  }
  const uint32_t cr4 = read_cr4();
  // CPUID.1:ECX.OSXSAVE mirrors the guest's CR4.OSXSAVE, not the VMM's.
  if ((cr4 & kCr4Osxsave) == 0)
    check_eq("cpuid1-osxsave-clear-initially", cpuid(1).ecx & kCpuid1EcxOsxsave, 0);
  if (!check_no_gp("cr4-osxsave", kMovToCrLength, [&] { mov_cr4_eax(cr4 | kCr4Osxsave); })) return;
  check_eq("cpuid1-osxsave-follows-cr4", cpuid(1).ecx & kCpuid1EcxOsxsave, kCpuid1EcxOsxsave);
  if (check_no_gp("xsetbv-x87-sse", kXsetbvLength, [] { xsetbv(0, kXcr0X87 | kXcr0Sse); }))
    check_eq("xsetbv-x87-sse", xgetbv(0), kXcr0X87 | kXcr0Sse);
  // XCR0 without x87 is invalid (SDM Vol. 2C XSETBV: #GP if XCR0[0] = 0).
  check_fault("xsetbv-invalid-gp", kVecGeneralProtection, kXsetbvLength, [] { xsetbv(0, kXcr0Sse); });
  check_eq("xsetbv-invalid-unchanged", xgetbv(0), kXcr0X87 | kXcr0Sse);
}

// ---- ACPI tables (docs/guest-abi.md "ACPI") -------------------------------
// The RSDP is found as an OS finds it without firmware help: on a 16-byte
// boundary in 0xE0000-0xFFFFF (ACPI 6.4 §5.2.5.1), then the XSDT, MADT
// and TPM2 through it, each with a valid checksum.
bool acpi_checksum_ok(uint32_t addr, uint32_t len) {
  uint8_t sum = 0;
  for (uint32_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + *reinterpret_cast<volatile uint8_t*>(addr + i));
  return sum == 0;
}
bool sig_is(uint32_t addr, const char* sig, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i)
    if (*reinterpret_cast<volatile char*>(addr + i) != sig[i]) return false;
  return true;
}
uint32_t acpi_find_table(uint32_t xsdt, const char* sig) {
  const uint32_t len = peek32(xsdt + 4);
  for (uint32_t off = 36; off + 8 <= len; off += 8) {
    const uint32_t t = peek32(xsdt + off);  // below 4 GiB (the upper half is checked by the host tests)
    if (sig_is(t, sig, 4)) return t;
  }
  return 0;
}

void acpi_checks() {
  uint32_t rsdp = 0;
  for (uint32_t a = 0xE0000; a < 0x100000; a += 16)
    if (sig_is(a, "RSD PTR ", 8)) { rsdp = a; break; }
  if (!rsdp) { report_fail("acpi-rsdp-found", "no RSD PTR in 0xE0000-0xFFFFF"); return; }
  report_pass("acpi-rsdp-found");
  check_eq("acpi-rsdp-checksums", acpi_checksum_ok(rsdp, 20) && acpi_checksum_ok(rsdp, 36), 1);
  const uint32_t xsdt = peek32(rsdp + 24);
  check_eq("acpi-xsdt", sig_is(xsdt, "XSDT", 4) && acpi_checksum_ok(xsdt, peek32(xsdt + 4)), 1);
  const uint32_t madt = acpi_find_table(xsdt, "APIC");
  check_eq("acpi-madt", madt != 0 && acpi_checksum_ok(madt, peek32(madt + 4)) && peek32(madt + 36) == kLapic, 1);
  const uint32_t tpm2 = acpi_find_table(xsdt, "TPM2");
  // TPM2 start method (TCG ACPI Specification §8.3): 6 = TIS (memory
  // mapped), 7 = CRB; no table without a TPM.
  const uint32_t want = option("tpm", 0) ? 6 : option("crb", 0) ? 7 : 0;
  if (want == 0) check_eq("acpi-no-tpm2-without-tpm", tpm2, 0);
  else check_eq("acpi-tpm2-start-method", tpm2 && acpi_checksum_ok(tpm2, peek32(tpm2 + 4)) ? peek32(tpm2 + 48) : 0, want);
}

void tis_checks() {
  // Only with option tpm=1 (VM name "...-tpm1"): a VM with tpm = off has
  // nothing at 0xFED40000 and this read would stop it (EPT violation).
  if (option("tpm", 0) == 0) {
    report_skip("tis-mmio", "no tpm=1 option");
    return;
  }
  const uint32_t did_vid = peek32(kTisDidVid);
  if (did_vid != 0 && did_vid != 0xFFFFFFFF) report_pass("tis-mmio-did-vid");
  else report_fail("tis-mmio-did-vid", "got 0x%x", did_vid);
  check_eq("tis-mmio-access-valid", peek32(kTisAccess) & kTisAccessValid, kTisAccessValid);
}

// Whole TPM commands through the register interface, the way a driver
// sends them, checked down to the response. With option engine=1 the VM's
// vTPM engine (vtpm-service in the service partition) must answer for real:
// TPM2_Startup(CLEAR) answers TPM_RC_INITIALIZE (the VMM started the TPM) and TPM2_GetRandom(8) returns 8 bytes.
// Without it the model must answer a well-formed TPM_RC_FAILURE.
constexpr uint8_t kStartupClear[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0};   // TPM2_Startup(CLEAR)
constexpr uint8_t kGetRandom8[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8};     // TPM2_GetRandom(8)
constexpr uint32_t kRcSuccess = 0, kRcFailure = 0x101;
// TPM_RC_INITIALIZE (TPM 2.0 Part 2 §6.6): the TPM is started already, by
// the VMM's measured launch as by a PC's firmware (docs/measured-launch.md).
constexpr uint32_t kRcInitialize = 0x100;
constexpr uint32_t kPollLimit = 100000;
constexpr uint32_t kRspCap = 64;

template <typename Cond>
bool poll(Cond c) {
  for (uint32_t i = 0; i < kPollLimit; ++i)
    if (c()) return true;
  return false;
}
inline uint8_t peek8(uint32_t a) { return *reinterpret_cast<volatile uint8_t*>(a); }
inline void poke8(uint32_t a, uint8_t v) { *reinterpret_cast<volatile uint8_t*>(a) = v; }
uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

// PTP §5.5.2 (FIFO interface, locality 0). Returns the response length, 0 on a protocol failure.
uint32_t tis_transact(const uint8_t* cmd, uint32_t len, uint8_t* rsp) {
  constexpr uint32_t kAccess = kTisBase + 0x00, kSts = kTisBase + 0x18, kFifo = kTisBase + 0x24;
  constexpr uint8_t kRequestUse = 0x02, kActive = 0x20, kRelinquish = 0x20;
  constexpr uint8_t kCommandReady = 0x40, kGo = 0x20, kDataAvail = 0x10, kValid = 0x80;
  poke8(kAccess, kRequestUse);
  if (!poll([] { return (peek8(kAccess) & kActive) != 0; })) return 0;
  poke8(kSts, kCommandReady);
  if (!poll([] { return (peek8(kSts) & kCommandReady) != 0; })) return 0;
  for (uint32_t i = 0; i < len; ++i) poke8(kFifo, cmd[i]);
  poke8(kSts, kGo);
  if (!poll([] { return (peek8(kSts) & (kValid | kDataAvail)) == (kValid | kDataAvail); })) return 0;
  for (uint32_t i = 0; i < 10; ++i) rsp[i] = peek8(kFifo);
  uint32_t n = be32(rsp + 2);
  if (n < 10 || n > kRspCap) return 0;
  for (uint32_t i = 10; i < n; ++i) rsp[i] = peek8(kFifo);
  bool drained = (peek8(kSts) & kDataAvail) == 0;
  poke8(kSts, kCommandReady);
  poke8(kAccess, kRelinquish);
  return drained ? n : 0;
}

// Linux's tpm_crb moves the buffers with memcpy_toio/_fromio, i.e. REP
// MOVS; the checks do it both ways: byte MOVs and REP MOVSB.
void copy_bytes(void* dst, const void* src, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) poke8(reinterpret_cast<uint32_t>(dst) + i, static_cast<const uint8_t*>(src)[i]);
}
void copy_from_mmio(void* dst, const void* src, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) static_cast<uint8_t*>(dst)[i] = peek8(reinterpret_cast<uint32_t>(src) + i);
}
void rep_movsb(void* dst, const void* src, uint32_t n) {
  asm volatile("cld; rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}
using Copy = void (*)(void*, const void*, uint32_t);

// PTP §6.5.3 (CRB interface, locality 0, buffer in the register page).
uint32_t crb_exchange(const uint8_t* c, uint32_t len, uint8_t* rsp, Copy to_mmio, Copy from_mmio) {
  constexpr uint32_t kLocState = kTisBase + 0x00, kLocCtrl = kTisBase + 0x08;
  constexpr uint32_t kCtrlReq = kTisBase + 0x40, kCtrlStart = kTisBase + 0x4C;
  constexpr uint32_t kCmdAddrLo = kTisBase + 0x5C, kRspAddr = kTisBase + 0x68;
  constexpr uint32_t kRequestAccess = 1, kRelinquish = 2, kLocAssigned = 2, kRegValid = 0x80;
  constexpr uint32_t kCmdReady = 1, kGoIdle = 2, kStart = 1;
  poke32(kLocCtrl, kRequestAccess);
  if (!poll([] { return (peek32(kLocState) & (kLocAssigned | kRegValid)) == (kLocAssigned | kRegValid); })) return 0;
  poke32(kCtrlReq, kCmdReady);
  if (!poll([] { return (peek32(kCtrlReq) & kCmdReady) == 0; })) return 0;
  uint32_t cmd = peek32(kCmdAddrLo), rsp_addr = peek32(kRspAddr);
  to_mmio(reinterpret_cast<void*>(cmd), c, len);
  poke32(kCtrlStart, kStart);
  if (!poll([] { return (peek32(kCtrlStart) & kStart) == 0; })) return 0;
  from_mmio(rsp, reinterpret_cast<const void*>(rsp_addr), 10);
  uint32_t n = be32(rsp + 2);
  if (n < 10 || n > kRspCap) return 0;
  from_mmio(rsp + 10, reinterpret_cast<const void*>(rsp_addr + 10), n - 10);
  poke32(kCtrlReq, kGoIdle);
  poke32(kLocCtrl, kRelinquish);
  return n;
}
uint32_t crb_transact(const uint8_t* c, uint32_t len, uint8_t* rsp) {
  return crb_exchange(c, len, rsp, copy_bytes, copy_from_mmio);
}
uint32_t crb_transact_movs(const uint8_t* c, uint32_t len, uint8_t* rsp) {
  return crb_exchange(c, len, rsp, rep_movsb, rep_movsb);
}

using Transact = uint32_t (*)(const uint8_t*, uint32_t, uint8_t*);

void tpm_session(const char* iface, Transact transact) {
  char name[48];
  uint8_t rsp[kRspCap];
  const bool engine = option("engine", 0) != 0;
  if (engine) {
    format(name, sizeof name, "tpm-%s-startup", iface);
    uint32_t n = transact(kStartupClear, sizeof kStartupClear, rsp);
    if (n == 10 && be32(rsp + 6) == kRcInitialize) report_pass(name);
    else report_fail(name, "length %u rc 0x%x, want TPM_RC_INITIALIZE (started by the VMM)", n, n >= 10 ? be32(rsp + 6) : 0);
  }
  format(name, sizeof name, "tpm-%s-getrandom", iface);
  uint32_t n = transact(kGetRandom8, sizeof kGetRandom8, rsp);
  if (!engine) {
    if (n == 10 && be32(rsp + 6) == kRcFailure && rsp[0] == 0x80 && rsp[1] == 0x01) report_pass(name);
    else report_fail(name, "length %u rc 0x%x, want a TPM_RC_FAILURE response", n, n >= 10 ? be32(rsp + 6) : 0);
    return;
  }
  // TPM2B_DIGEST: u16 size then the bytes (TPM 2.0 Part 3 §16.1).
  bool ok = n == 20 && be32(rsp + 6) == kRcSuccess && rsp[10] == 0 && rsp[11] == 8;
  uint32_t nonzero = 0;
  for (uint32_t i = 12; ok && i < 20; ++i) nonzero |= rsp[i];
  if (ok && nonzero) report_pass(name);
  else report_fail(name, "length %u rc 0x%x", n, n >= 10 ? be32(rsp + 6) : 0);
}

void tpm_command_checks() {
  if (option("tpm", 0)) tpm_session("tis", tis_transact);
  else if (option("crb", 0)) {
    constexpr uint32_t kIntfId = kTisBase + 0x30, kTypeMask = 0xF, kTypeCrb = 1;
    check_eq("tpm-crb-interface-type", peek32(kIntfId) & kTypeMask, kTypeCrb);
    tpm_session("crb", crb_transact);
    if (option("engine", 0)) {
      // After Startup: GetRandom again, buffers moved with REP MOVSB.
      uint8_t rsp[kRspCap];
      uint32_t n = crb_transact_movs(kGetRandom8, sizeof kGetRandom8, rsp);
      if (n == 20 && be32(rsp + 6) == kRcSuccess && rsp[11] == 8) report_pass("tpm-crb-rep-movs");
      else report_fail("tpm-crb-rep-movs", "length %u rc 0x%x", n, n >= 10 ? be32(rsp + 6) : 0);
    }
  } else {
    report_skip("tpm-command", "no tpm=1 or crb=1 option");
  }
}

}  // namespace

void main() {
  if (mamori_present()) {
    cpuid_checks();
    vmcall_checks();
    io_checks();
    msr_checks();
    instruction_checks();
    interrupt_checks();
    acpi_checks();
  } else {
    // Without mamori (QEMU smoke test) only the checks whose answers the
    // SDM fixes run: they prove the checking code itself on a real CPU model.
    // (QEMU's TCG answers unknown MSRs with 0 instead of #GP: no MSR checks.)
    report_skip("cpuid vmcall io msr", "bare=1: no VMM");
  }
  cr_checks();
  xsetbv_checks();
  tis_checks();
  tpm_command_checks();
  finish();
}

}  // namespace guest
