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
void kbc_reset() {
  outb(kKbcCommand, kKbcPulseReset);
  print("hostile: survived 8042 reset command (write ignored)\n");
}
void cf9_reset() {
  outb(kResetControl, kResetFull);
  print("hostile: survived reset control register write (write ignored)\n");
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
}
void vmread() {
  uint32_t value = 0;
  expect_fault(kVecInvalidOpcode, kVmreadLength);
  asm volatile(".byte 0x0F, 0x78, 0xC1  # vmread %%eax, %%ecx" : "=c"(value) : "a"(kVmcsGuestRip) : "cc");
  vmx_outcome("VMREAD", value);
}
void triple_fault() {
  // IDT limit 0: #BP cannot be delivered (#GP), nor can the #GP (#DF), nor
  // the #DF: shutdown (SDM Vol. 3A 6.15, "Interrupt 8—Double Fault").
  load_empty_idt();
  asm volatile("int3");
  not_contained("triple fault", 0);
}

enum class Outcome { Stops, Continues, StopsUnlessVtpm, StopsOrUd };
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
    {"reset through the keyboard controller (0x64 <- 0xFE)", Outcome::Continues, kbc_reset},
    {"reset through 0xCF9 <- 0x06", Outcome::Continues, cf9_reset},
    {"reset through port 0x92 <- 0x01", Outcome::Continues, port92_reset},
    {"WRMSR IA32_FEATURE_CONTROL (0x3A)", Outcome::Continues, feature_control},
    {"WRMSR IA32_BIOS_UPDT_TRIG (0x79, microcode load)", Outcome::Continues, microcode},
    {"VMXON", Outcome::StopsOrUd, vmxon, Bare::Safe},
    {"VMCALL with bad arguments", Outcome::Continues, bad_hypercalls},
    {"VMREAD", Outcome::StopsOrUd, vmread, Bare::Safe},
    {"triple fault (empty IDT, INT3)", Outcome::Stops, triple_fault, Bare::Safe},
};
constexpr uint32_t kAttemptCount = sizeof kAttempts / sizeof kAttempts[0];

const char* outcome_text(Outcome o) {
  switch (o) {
    case Outcome::Stops: return "must stop the guest";
    case Outcome::Continues: return "contained, guest continues";
    case Outcome::StopsUnlessVtpm: return "stops the guest unless it has a vTPM";
    case Outcome::StopsOrUd: return "must stop the guest (or inject #UD)";
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
