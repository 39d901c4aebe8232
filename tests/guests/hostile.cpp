// hostile: tries to escape, one numbered attempt after another, printing
// "hostile: attempting <n> <what>" before each. Several attempts stop the
// guest under mamori's policy (docs/guest-abi.md "What stops a guest"), so
// option step=K (or a VM name ending in "-stepK") starts at attempt K; a
// system test boots it once per stopping attempt. docs/guests.md has the
// table of attempts and what mamori must do for each.
//
// An attempt that should have stopped the guest but returned prints
// "hostile: NOT CONTAINED ..."; one that should continue and did prints
// "hostile: survived ..." with what it saw. If it reaches the end (the
// triple fault did not stop it) it exits with the number of uncontained
// attempts as status.
#include "lib/rt.hpp"

namespace guest {

const char kProgram[] = "hostile";

namespace {

constexpr uint32_t kMiB = 1u << 20;
constexpr uint32_t kPage = 4096;
constexpr uint32_t kLowHostPage = 0x1000;        // where firmware/VMM data sit in host memory
constexpr uint32_t kBeyondRam = 64 * kMiB;       // "VMM memory": this far past our RAM
constexpr uint32_t kHighestPage = 0xFFFFF000;    // clamp for addresses past 4 GiB (paging is off)
constexpr uint32_t kPoison = 0xDEADBEEF;

constexpr uint32_t kTisBase = 0xFED40000;        // physical TPM TIS locality 0
constexpr uint32_t kTisDidVid = kTisBase + 0xF00;

// PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2).
constexpr uint16_t kPciConfigAddress = 0xCF8, kPciConfigData = 0xCFC;
constexpr uint32_t kPciEnable = 0x80000000;      // bus 0, device 0, function 0, register 0
// Reset paths of a PC: 8042 "pulse reset line", the chipset reset control
// register (full reset), and System Control Port A "fast reset".
constexpr uint16_t kKbcCommand = 0x64;
constexpr uint8_t kKbcPulseReset = 0xFE;
constexpr uint16_t kResetControl = 0xCF9;
constexpr uint8_t kResetFull = 0x06;             // SYS_RST | RST_CPU
constexpr uint16_t kSysCtlPortA = 0x92;
constexpr uint8_t kFastReset = 0x01;

constexpr uint32_t kMsrFeatureControl = 0x3A;    // IA32_FEATURE_CONTROL (enables VMXON)
constexpr uint32_t kFeatureControlLockVmx = 0x5; // lock | VMX outside SMX
constexpr uint32_t kMsrBiosUpdateTrigger = 0x79; // IA32_BIOS_UPDT_TRIG (microcode load)

constexpr uint32_t kVmcsGuestRip = 0x681E;       // VMCS field encoding (SDM Vol. 3D App. B)

uint32_t g_not_contained = 0;
alignas(kPage) uint8_t g_vmxon_region[kPage];

uint32_t clamp(uint64_t addr) { return addr > kHighestPage ? kHighestPage : static_cast<uint32_t>(addr); }
uint32_t ram() { return clamp(ram_end()); }

void not_contained(const char* what, uint32_t value) {
  ++g_not_contained;
  print("hostile: NOT CONTAINED %s (returned, value 0x%x)\n", what, value);
}

// ---- the attempts ------------------------------------------------------------
// Each returns only if the guest was not stopped.

void read_low() {
  const uint32_t v = peek32(kLowHostPage);
  print("hostile: survived read of guest-physical 0x%x: 0x%x (its own RAM under EPT, not the host's)\n",
        kLowHostPage, v);
}
void read_vmm_high() {
  const uint32_t a = clamp(ram_end() + kBeyondRam);
  not_contained("read 64 MiB past RAM", peek32(a));
}
void write_other_guest() {
  // A second guest of our size placed right after us would start at
  // 2 x RAM if guest-physical were host-physical.
  const uint32_t a = clamp(2 * ram_end());
  poke32(a, kPoison);
  not_contained("write at 2 x RAM end", peek32(a));
}
void read_past_ram() { not_contained("read of the first byte past RAM", peek32(ram())); }
void write_past_ram() {
  poke32(clamp(ram_end() + kPage), kPoison);
  not_contained("write one page past RAM", kPoison);
}
void read_tpm() {
  const uint32_t v = peek32(kTisDidVid);
  print("hostile: survived TPM window read: DID_VID 0x%x (must be this VM's own vTPM, tpm = on)\n", v);
}
void pci_config() {
  outl(kPciConfigAddress, kPciEnable);
  const uint32_t v = inl(kPciConfigData);
  if (v == 0xFFFFFFFF) print("hostile: survived PCI config read: all ones (port policy)\n");
  else not_contained("PCI config read of 00:00.0 returned data", v);
}
// The primary IDE channel is the VMM's own (its state partition, docs/
// storage.md): a guest that selects the master drive and sends IDENTIFY
// DEVICE (ATA8-ACS 7.16) must see no device, and the VMM's channel must
// not be left busy (bochs_guests.py runs `tpm state` afterwards).
constexpr uint16_t kAtaData = 0x1F0, kAtaDrive = 0x1F6, kAtaCommand = 0x1F7;
constexpr uint8_t kAtaSelectMaster = 0xA0, kAtaIdentify = 0xEC;
void ide_identify() {
  outb(kAtaDrive, kAtaSelectMaster);
  outb(kAtaCommand, kAtaIdentify);
  const uint8_t status = inb(kAtaCommand);
  const uint16_t data = inw(kAtaData);
  if (status == 0xFF && data == 0xFFFF)
    print("hostile: survived IDE IDENTIFY on the VMM's channel: status 0x%x, data 0x%x (no device)\n", status, data);
  else not_contained("IDE IDENTIFY reached the drive: status", status);
}
// A reset restarts the guest from its image (docs/guest-abi.md "Reset and
// power-off"): RAM is reloaded, so the attempt leaves a note in CMOS NVRAM
// (byte 0x40, unused by any PC firmware convention mamori follows), which
// a platform reset keeps as battery-backed CMOS does. The note counts the
// resets done; on the boot after one, that attempt reports it.
constexpr uint16_t kCmosIndex = 0x70, kCmosData = 0x71;
constexpr uint8_t kCmosNote = 0x40;
constexpr uint8_t kNoteKbcDone = 0xA1, kNoteCf9Done = 0xA2;
uint8_t cmos_read(uint8_t reg) {
  outb(kCmosIndex, reg);
  return inb(kCmosData);
}
void cmos_write(uint8_t reg, uint8_t v) {
  outb(kCmosIndex, reg);
  outb(kCmosData, v);
}
void reset_attempt(uint8_t done_note, uint8_t prior_note, uint16_t port, uint8_t value, const char* what) {
  const uint8_t note = cmos_read(kCmosNote);
  if (note == done_note) {
    print("hostile: survived %s: the guest was restarted, CMOS NVRAM kept\n", what);
    return;
  }
  if (note != prior_note) {  // a later attempt's note: this reset is already done
    return;
  }
  cmos_write(kCmosNote, done_note);
  outb(port, value);
  cmos_write(kCmosNote, prior_note);
  not_contained(what, 0);  // a reset that returns: the VMM ignored it
}
void kbc_reset() {
  reset_attempt(kNoteKbcDone, 0, kKbcCommand, kKbcPulseReset, "8042 reset command");
}
void cf9_reset() {
  reset_attempt(kNoteCf9Done, kNoteKbcDone, kResetControl, kResetFull, "reset control register write");
  cmos_write(kCmosNote, 0);  // both done: a later boot starts afresh
}
void port92_reset() {
  outb(kSysCtlPortA, kFastReset);
  print("hostile: survived port 0x92 fast reset (write ignored)\n");
}
void msr_write(uint32_t msr, uint64_t value, const char* what) {
  expect_fault(kVecGeneralProtection, kWrmsrLength);
  wrmsr(msr, value);
  const FaultRecord r = take_fault();
  if (r.hit) print("hostile: survived %s: #GP injected\n", what);
  else not_contained(what, msr);
}
void feature_control() { msr_write(kMsrFeatureControl, kFeatureControlLockVmx, "IA32_FEATURE_CONTROL write"); }
void microcode() { msr_write(kMsrBiosUpdateTrigger, reinterpret_cast<uint32_t>(g_vmxon_region), "IA32_BIOS_UPDT_TRIG write"); }
// VMX instructions in VMX non-root operation always exit (SDM Vol. 3C
// 26.1.2). docs/guest-abi.md says the guest is then stopped; a VMM that
// injects #UD instead (as if VT-x were absent) contains it too, so a #UD
// is armed for and skipped: fixed encodings give the length.
constexpr uint8_t kVmxonLength = 4;   // F3 0F C7 30: vmxon (%eax)
constexpr uint8_t kVmreadLength = 3;  // 0F 78 C1: vmread %eax, %ecx
void vmx_outcome(const char* what, uint32_t value) {
  const FaultRecord r = take_fault();
  if (r.hit) print("hostile: survived %s: #UD injected (no nested VT-x)\n", what);
  else not_contained(what, value);
}
void vmxon() {
  static uint64_t region;   // a memory operand that is not on the stack
  region = reinterpret_cast<uint32_t>(g_vmxon_region);
  expect_fault(kVecInvalidOpcode, kVmxonLength);
  asm volatile(".byte 0xF3, 0x0F, 0xC7, 0x30  # vmxon (%%eax)" ::"a"(&region) : "memory", "cc");
  vmx_outcome("VMXON", 0);
}
void bad_hypercalls() {
  struct Case { const char* what; uint32_t fn, a, b; };
  const uint32_t end = ram();
  const Case cases[] = {
      {"console write past RAM", kHcConsoleWrite, end, 16},
      {"console write of 4 GiB - 1 bytes", kHcConsoleWrite, 0, 0xFFFFFFFF},
      {"console write wrapping 4 GiB", kHcConsoleWrite, 0xFFFFFF00, 0x200},
      {"function 0xFFFFFFFF", 0xFFFFFFFF, 0, 0},
  };
  for (const Case& c : cases) {
    const uint32_t r = vmcall(c.fn, c.a, c.b);
    if (r == kHcError) print("hostile: survived bad hypercall (%s): 0xFFFFFFFF\n", c.what);
    else not_contained(c.what, r);
  }
  // 4096 newlines would be 4096 console lines inside one exit: mamori
  // takes at most 32 lines a call (a short write, docs/guest-abi.md).
  static char newlines[kConsoleWriteMax];
  for (char& ch : newlines) ch = '\n';
  const uint32_t taken = vmcall(kHcConsoleWrite, reinterpret_cast<uint32_t>(newlines), kConsoleWriteMax);
  if (taken > 0 && taken < kConsoleWriteMax)
    print("hostile: survived console write of 4096 newlines: %u bytes taken (bounded per call)\n", taken);
  else not_contained("console write of 4096 newlines was not bounded", taken);
}
void vmread() {
  uint32_t value = 0;
  expect_fault(kVecInvalidOpcode, kVmreadLength);
  asm volatile(".byte 0x0F, 0x78, 0xC1  # vmread %%eax, %%ecx" : "=c"(value) : "a"(kVmcsGuestRip) : "cc");
  vmx_outcome("VMREAD", value);
}
// ---- issue 9: XSETBV, PAT, CR8, exit storm -----------------------------------
constexpr uint32_t kCr4Osxsave = 1u << 18;
constexpr uint8_t kXsetbvLength = 3;   // 0F 01 D1
constexpr uint32_t kCpuidXsave = 0xD;
void xsetbv(uint32_t xcr, uint64_t v) {
  asm volatile("xsetbv" ::"c"(xcr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)) : "memory");
}
uint64_t xgetbv0() {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
// Each value breaks one rule of SDM 1 §13.3 / SDM 2 XSETBV (or asks for a
// component mamori does not offer): each must be #GP in the guest, never
// an XSETBV executed on the host (0x23 used to panic the VMM).
void bad_xcr0() {
  if (!(cpuid(1).ecx & kCpuid1EcxXsave)) {
    print("hostile: survived XSETBV checks: no XSAVE on this CPU (nothing to attempt)\n");
    return;
  }
  write_cr4(read_cr4() | kCr4Osxsave);
  const CpuidResult d = cpuid(kCpuidXsave, 0);
  const uint64_t offered = (static_cast<uint64_t>(d.edx) << 32) | d.eax;
  struct Case { const char* what; uint32_t xcr; uint64_t value; };
  const Case cases[] = {
      {"0x23 (AVX-512 opmask without AVX)", 0, 0x23},
      {"0x5 (AVX without SSE)", 0, 0x5},
      {"0x0 (x87 bit clear)", 0, 0x0},
      {"0xF (MPX BNDREGS alone)", 0, 0xF},
      {"0x17 (MPX BNDCSR alone)", 0, 0x17},
      {"0x67 (two of AVX-512's three)", 0, 0x67},
      {"0xE3 (AVX-512 without AVX)", 0, 0xE3},
      {"0x20003 (AMX TILECFG alone)", 0, 0x20003},
      {"0x40003 (AMX TILEDATA alone)", 0, 0x40003},
      {"0x103 (PT, a supervisor component)", 0, 0x103},
      {"bit 63", 0, 0x8000000000000003ull},
      {"every bit", 0, ~0ull},
      {"XCR1 = 3 (ECX = 1)", 1, 0x3},
      {"components beyond CPUID.(0DH,0)", 0, (~offered & 0x7FFFFull) | 0x3},
  };
  for (const Case& c : cases) {
    if (c.value == 0x3 && c.xcr == 0) continue;
    expect_fault(kVecGeneralProtection, kXsetbvLength);
    xsetbv(c.xcr, c.value);
    const FaultRecord r = take_fault();
    if (r.hit) print("hostile: survived XSETBV %s: #GP injected\n", c.what);
    else not_contained("XSETBV with a bad value", static_cast<uint32_t>(c.value));
  }
  // A valid value must work, and read back.
  const uint64_t good = offered & 0x7;
  xsetbv(0, good);
  const uint64_t got = xgetbv0();
  if (got == good) print("hostile: survived XSETBV checks: valid XCR0 0x%llx accepted and reads back\n", good);
  else not_contained("valid XSETBV did not read back", static_cast<uint32_t>(got));
  xsetbv(0, 1);
}

// IA32_PAT is passed through: the guest may set its own; the VM exit
// must give the host its PAT back (SDM 3C §28.5.1, load IA32_PAT), and
// the VMM reports if it finds its PAT changed after a slice.
constexpr uint32_t kMsrPat = 0x277;
constexpr uint64_t kGuestPat = 0x0007040600070406ull | (0x06ull << 56);  // PA7 = WB instead of UC
void pat_write() {
  const uint64_t before = rdmsr(kMsrPat);
  wrmsr(kMsrPat, kGuestPat);
  const uint64_t got = rdmsr(kMsrPat);
  if (got == kGuestPat) print("hostile: survived IA32_PAT write: its own PAT reads 0x%llx (was 0x%llx)\n", got, before);
  else not_contained("IA32_PAT write did not read back", static_cast<uint32_t>(got));
}

// MOV to CR8 exists in 64-bit mode only: go to long mode (identity-mapped
// 2-MiB pages over our RAM), write CR8 = 15, read it back, come back to
// 32-bit protected mode. Without CR8 exiting (and no TPR shadow) this
// writes the physical local APIC's TPR (SDM 3C §26.3), masking the host's
// interrupts on this CPU; the VMM reports a changed host TPR after the slice.
alignas(kPage) uint64_t g_pml4[512];
alignas(kPage) uint64_t g_pdpt[512];
alignas(kPage) uint64_t g_pd[512];
struct [[gnu::packed]] Gdtr { uint16_t limit; uint32_t base; };
// null, 32-bit code (0x08), data (0x10) as lib/entry.S has them, plus a
// 64-bit code segment (0x18: L = 1, D = 0).
const uint64_t g_gdt64[] = {0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull, 0x00AF9A000000FFFFull};
volatile uint32_t g_cr8_read = 0xFFFFFFFF;
void cr8_write() {
  constexpr uint64_t kPresentRw = 0x3, kLarge = 0x80;
  g_pml4[0] = reinterpret_cast<uint32_t>(g_pdpt) | kPresentRw;
  g_pdpt[0] = reinterpret_cast<uint32_t>(g_pd) | kPresentRw;
  for (uint32_t i = 0; i < 512; ++i) g_pd[i] = (static_cast<uint64_t>(i) << 21) | kPresentRw | kLarge;
  Gdtr saved{}, mine{sizeof g_gdt64 - 1, reinterpret_cast<uint32_t>(g_gdt64)};
  asm volatile("sgdt %0" : "=m"(saved));
  asm volatile(
      "cli\n\t"
      "lgdt %[gdt]\n\t"
      "mov %%cr4, %%eax; or $0x20, %%eax; mov %%eax, %%cr4\n\t"          // PAE
      "mov %[pml4], %%eax; mov %%eax, %%cr3\n\t"
      "mov $0xC0000080, %%ecx; rdmsr; or $0x100, %%eax; wrmsr\n\t"      // EFER.LME
      "mov %%cr0, %%eax; or $0x80000000, %%eax; mov %%eax, %%cr0\n\t"   // PG: IA-32e mode
      "ljmp $0x18, $1f\n\t"
      ".code64\n"
      "1:\n\t"
      "mov %%esp, %%esp; mov %%edi, %%edi\n\t"                          // upper halves are undefined after the switch
      "mov $15, %%eax; mov %%rax, %%cr8\n\t"                            // left at 15: the attack
      "mov %%cr8, %%rax; mov %%eax, (%%rdi)\n\t"
      "pushq $0x08; lea 2f(%%rip), %%rax; pushq %%rax; lretq\n\t"
      ".code32\n"
      "2:\n\t"
      "mov %%cr0, %%eax; and $0x7FFFFFFF, %%eax; mov %%eax, %%cr0\n\t"  // leave IA-32e mode
      "mov $0xC0000080, %%ecx; rdmsr; and $0xFFFFFEFF, %%eax; wrmsr\n\t"
      "mov %%cr4, %%eax; and $0xFFFFFFDF, %%eax; mov %%eax, %%cr4\n\t"
      "lgdt %[saved]\n\t"
      :
      : [gdt] "m"(mine), [pml4] "r"(reinterpret_cast<uint32_t>(g_pml4)), [saved] "m"(saved), "D"(&g_cr8_read)
      : "eax", "ecx", "edx", "memory", "cc");
  if (g_cr8_read == 15) print("hostile: survived MOV CR8 = 15 in 64-bit mode: reads back %u (its own TPR)\n", g_cr8_read);
  else not_contained("MOV CR8 did not read back", g_cr8_read);
}

// ---- issue 9: MMIO through the guest's own page tables -----------------------
// The VMM emulates the instruction that touched the TPM window; for a
// REP MOVS the other operand is guest RAM, which the emulator must reach
// through the guest's page tables with the guest's rights (SDM 3A §4.6):
// a read-only or absent page is a #PF in the guest with the right error
// code and CR2, iterations done so far kept (ECX, ESI, EDI), nothing
// written behind the guest's back. Needs a vTPM (option tpm=1): without
// one the window is no device and the access would stop the guest.
//
// 32-bit paging with 4-MiB pages (CR4.PSE): the first 16 MiB identity
// mapped read/write; virtual 0x3FC00000 -> physical 4 MiB read/write;
// virtual 0x40000000 -> physical 8 MiB read-only (CR0.WP makes it so for
// ring 0); the TPM window's 4 MiB page (0xFEC00000) read/write, uncached.
constexpr uint8_t kVecPageFault = 14;
constexpr uint32_t kPdePresent = 1u << 0, kPdeWrite = 1u << 1, kPdePwt = 1u << 3, kPdePcd = 1u << 4,
                   kPdeLarge = 1u << 7;
constexpr uint32_t kCr0Pg = 1u << 31, kCr0Wp = 1u << 16, kCr4Pse = 1u << 4;
constexpr uint32_t kRwVirt = 0x3FC00000, kRwPhys = 0x00400000, kRoVirt = 0x40000000, kRoPhys = 0x00800000;
constexpr uint8_t kRepMovsdLength = 2;  // F3 A5
alignas(kPage) uint32_t g_pd32[1024];
uint32_t read_cr2() { uint32_t v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
void paging(bool on) {
  if (on) {
    for (uint32_t i = 0; i < 4; ++i) g_pd32[i] = (i << 22) | kPdePresent | kPdeWrite | kPdeLarge;
    g_pd32[kRwVirt >> 22] = kRwPhys | kPdePresent | kPdeWrite | kPdeLarge;
    g_pd32[kRoVirt >> 22] = kRoPhys | kPdePresent | kPdeLarge;  // read-only
    g_pd32[kTisBase >> 22] = (kTisBase & ~0x3FFFFFu) | kPdePresent | kPdeWrite | kPdeLarge | kPdePcd | kPdePwt;
    asm volatile("mov %0, %%cr3" ::"r"(reinterpret_cast<uint32_t>(g_pd32)) : "memory");
    write_cr4(read_cr4() | kCr4Pse);
    write_cr0(read_cr0() | kCr0Pg | kCr0Wp);
  } else {
    write_cr0(read_cr0() & ~(kCr0Pg | kCr0Wp));
    write_cr4(read_cr4() & ~kCr4Pse);
  }
}
void mmio_movs_readonly_page() {
  if (!option("tpm", 0)) {
    print("hostile: survived MMIO through page tables: skipped (no tpm=1 option: no device in the window)\n");
    return;
  }
  constexpr uint32_t kCanary = 0x5A5AA5A5;
  poke32(kRoPhys, kCanary);                  // the read-only page's first dword
  poke32(kRwPhys + 0x3FFFFC, 0);             // the last dword of the writable page before it
  const uint32_t did_vid = peek32(kTisDidVid);
  paging(true);
  // Two DIDs from the TPM window: the first lands in the writable page,
  // the second would land in the read-only one.
  uint32_t src = kTisDidVid, dst = kRoVirt - 4, count = 2;
  expect_fault(kVecPageFault, kRepMovsdLength);
  asm volatile("rep movsl" : "+S"(src), "+D"(dst), "+c"(count) : : "memory");
  const FaultRecord r = take_fault();
  const uint32_t cr2 = read_cr2();
  paging(false);
  const uint32_t first = peek32(kRwPhys + 0x3FFFFC), ro = peek32(kRoPhys);
  constexpr uint32_t kPfPresentWrite = 0x3;  // P = 1 (protection), W/R = 1 (SDM 3A §4.7)
  if (r.hit && (r.error & 0x7) == kPfPresentWrite && cr2 == kRoVirt && count == 1 && dst == kRoVirt &&
      src == kTisDidVid + 4 && first == did_vid && ro == kCanary)
    print("hostile: survived REP MOVSD from the TPM window into a read-only page: #PF (error 0x%x, CR2 0x%x), "
          "1 of 2 done, the read-only page unchanged\n", r.error, cr2);
  else
    print("hostile: NOT CONTAINED REP MOVSD into a read-only page: fault %u vector %u error 0x%x cr2 0x%x, "
          "ecx %u edi 0x%x esi 0x%x, first 0x%x (DID 0x%x), read-only page 0x%x\n",
          r.hit, r.vector, r.error, cr2, count, dst, src, first, did_vid, ro);
  if (!(r.hit && ro == kCanary)) ++g_not_contained;

  // The same with a count of 2^32 - 1 (the emulator works element by
  // element and must stop at the fault, not run through the count), and
  // backwards (DF = 1: both pointers go down, SDM 2 MOVS).
  paging(true);
  src = kTisDidVid;
  dst = kRoVirt - 8;
  count = 0xFFFFFFFF;
  expect_fault(kVecPageFault, kRepMovsdLength);
  asm volatile("rep movsl" : "+S"(src), "+D"(dst), "+c"(count) : : "memory");
  const FaultRecord huge = take_fault();
  const uint32_t huge_cr2 = read_cr2();
  uint32_t bsrc = kTisDidVid + 4, bdst = kRoVirt - 4, bcount = 2;
  asm volatile("std; rep movsl; cld" : "+S"(bsrc), "+D"(bdst), "+c"(bcount) : : "memory", "cc");
  paging(false);
  const uint32_t ro_after = peek32(kRoPhys);
  if (huge.hit && huge_cr2 == kRoVirt && count == 0xFFFFFFFD && dst == kRoVirt && ro_after == kCanary)
    print("hostile: survived REP MOVSD with ECX = 0xFFFFFFFF into a read-only page: #PF after 2 elements, "
          "ECX 0x%x\n", count);
  else
    not_contained("REP MOVSD with a huge count", count);
  if (bcount == 0 && bdst == kRoVirt - 12 && bsrc == kTisDidVid - 4 && peek32(kRwPhys + 0x3FFFF8) == did_vid)
    print("hostile: survived REP MOVSD with DF = 1 from the TPM window: both pointers went down, 2 elements\n");
  else
    not_contained("REP MOVSD with DF = 1", bdst);
}

// An exit storm: refused (and, before rate limiting, logged) RDMSRs for
// `storm` TSC ticks. The VMM must end its slices on time all the same: the
// guest beside it on this CPU keeps its share and the shell answers
// (tests/system/bochs_guests.py counts the other guest's heartbeats
// between this attempt's two lines). Off unless option storm=TICKS.
constexpr uint32_t kMsrStormTarget = 0x480;  // IA32_VMX_BASIC: VMX is hidden, not in the MSR table
void rdmsr_storm() {
  const uint32_t ticks = option("storm", 0);
  if (ticks == 0) {
    print("hostile: survived RDMSR storm: skipped (no storm=TICKS option)\n");
    return;
  }
  const uint64_t start = rdtsc();
  uint32_t n = 0, refused = 0;
  while (rdtsc() - start < ticks) {
    expect_fault(kVecGeneralProtection, kRdmsrLength);
    (void)rdmsr(kMsrStormTarget);
    refused += take_fault().hit ? 1 : 0;
    ++n;
  }
  if (refused == n) print("hostile: survived RDMSR storm: %u RDMSRs refused in %u TSC ticks\n", n, ticks);
  else not_contained("RDMSR storm: an RDMSR of IA32_VMX_BASIC returned", n - refused);
}

void triple_fault() {
  // IDT limit 0: #BP cannot be delivered (#GP), nor can the #GP (#DF), nor
  // the #DF: shutdown (SDM Vol. 3A 6.15, "Interrupt 8—Double Fault").
  load_empty_idt();
  asm volatile("int3");
  not_contained("triple fault", 0);
}

enum class Outcome { Stops, Continues, StopsUnlessVtpm, StopsOrUd, Resets };
// Harmless on a bare machine or plain emulator too (the QEMU smoke test runs these).
enum class Bare : bool { Unsafe = false, Safe = true };
struct Attempt {
  const char* what;
  Outcome outcome;
  void (*run)();
  Bare bare = Bare::Unsafe;
};
const Attempt kAttempts[] = {
    {"read VMM memory: guest-physical 0x1000", Outcome::Continues, read_low, Bare::Safe},
    {"read VMM memory: 64 MiB past this guest's RAM", Outcome::Stops, read_vmm_high},
    {"write another guest's memory (2 x RAM end)", Outcome::Stops, write_other_guest},
    {"read past RAM (first byte after it)", Outcome::Stops, read_past_ram},
    {"write past RAM (one page after it)", Outcome::Stops, write_past_ram},
    {"read the physical TPM window 0xFED40F00", Outcome::StopsUnlessVtpm, read_tpm},
    {"PCI config space through 0xCF8/0xCFC", Outcome::Continues, pci_config},
    {"reset through the keyboard controller (0x64 <- 0xFE)", Outcome::Resets, kbc_reset},
    {"reset through 0xCF9 <- 0x06", Outcome::Resets, cf9_reset},
    {"reset through port 0x92 <- 0x01", Outcome::Continues, port92_reset},
    {"WRMSR IA32_FEATURE_CONTROL (0x3A)", Outcome::Continues, feature_control},
    {"WRMSR IA32_BIOS_UPDT_TRIG (0x79, microcode load)", Outcome::Continues, microcode},
    {"VMXON", Outcome::StopsOrUd, vmxon, Bare::Safe},
    {"VMCALL with bad arguments", Outcome::Continues, bad_hypercalls},
    {"VMREAD", Outcome::StopsOrUd, vmread, Bare::Safe},
    {"XSETBV with values the SDM or mamori refuse", Outcome::Continues, bad_xcr0},
    {"WRMSR IA32_PAT (passed through: must not reach the host)", Outcome::Continues, pat_write},
    {"MOV CR8 = 15 in 64-bit mode (must not reach the physical TPR)", Outcome::Continues, cr8_write},
    {"REP MOVSD from the TPM window into a read-only page (paging on)", Outcome::Continues, mmio_movs_readonly_page},
    {"RDMSR storm (option storm=TICKS)", Outcome::Continues, rdmsr_storm},
    {"IDE IDENTIFY on the primary channel (the VMM's state disk)", Outcome::Continues, ide_identify},
    {"triple fault (empty IDT, INT3)", Outcome::Stops, triple_fault, Bare::Safe},
};
constexpr uint32_t kAttemptCount = sizeof kAttempts / sizeof kAttempts[0];

const char* outcome_text(Outcome o) {
  switch (o) {
    case Outcome::Stops: return "must stop the guest";
    case Outcome::Continues: return "contained, guest continues";
    case Outcome::StopsUnlessVtpm: return "stops the guest unless it has a vTPM";
    case Outcome::StopsOrUd: return "must stop the guest (or inject #UD)";
    case Outcome::Resets: return "restarts the guest (platform reset)";
  }
  return "";
}

}  // namespace

void main() {
  const uint32_t first = option("step", 1);
  print("hostile: RAM ends at 0x%llx; %u attempts, starting at %u\n", ram_end(), kAttemptCount, first);
  if (!mamori_present())
    print("hostile: bare=1: nothing contains these attempts, only the harmless ones run\n");
  for (uint32_t i = first; i >= 1 && i <= kAttemptCount; ++i) {
    const Attempt& a = kAttempts[i - 1];
    if (!mamori_present() && a.bare == Bare::Unsafe) {
      print("hostile: skipping %u %s (not without a VMM)\n", i, a.what);
      continue;
    }
    print("hostile: attempting %u %s (%s)\n", i, a.what, outcome_text(a.outcome));
    a.run();
  }
  print("hostile: DONE %u attempts not contained\n", g_not_contained);
  exit(g_not_contained);   // ≥ 1 here: the triple fault did not stop the guest
}

}  // namespace guest
